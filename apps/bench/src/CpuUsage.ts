/**
 * Where the CPU went during a measured run: the shop process, the PostgreSQL backends serving its
 * database, and this process (autocannon). Linux only (`/proc/<pid>/stat`); elsewhere it reports nothing.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fs from "node:fs"

/** `sysconf(_SC_CLK_TCK)`: 100 on every mainstream Linux build. */
const ticksPerSecond = 100

/** utime + stime of `pid`, in seconds; `None` when it is gone or there is no `/proc`. */
export const cpuSeconds = (pid: number): Option.Option<number> => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return Option.some((Number(fields[11]) + Number(fields[12])) / ticksPerSecond)
  } catch {
    return Option.none()
  }
}

/** µs of CPU per request between two `cpuSeconds` readings; NaN when either is missing. */
export const cpuPerRequest = (
  before: Option.Option<number>,
  after: Option.Option<number>,
  requests: number
): number =>
  Option.match(Option.all([before, after]), {
    onNone: () => Number.NaN,
    onSome: ([b, a]) => (1e6 * (a - b)) / Math.max(1, requests)
  })

export interface Snapshot {
  readonly at: number
  readonly shop: Option.Option<number>
  readonly postgres: ReadonlyMap<number, number>
  readonly bench: number
}

/** CPU use over an interval, in percent of one core (200% = both cores of a 2-core machine). */
export interface Shares {
  readonly shop: Option.Option<number>
  readonly postgres: Option.Option<number>
  readonly bench: number
}

export const snapshot = (shopPid: number, postgresPids: ReadonlyArray<number>): Effect.Effect<Snapshot> =>
  Effect.sync(() => {
    const postgres = new Map<number, number>()
    for (const pid of postgresPids) Option.map(cpuSeconds(pid), (s) => postgres.set(pid, s))
    const usage = process.cpuUsage()
    return {
      at: performance.now(),
      shop: cpuSeconds(shopPid),
      postgres,
      bench: (usage.user + usage.system) / 1e6
    }
  })

/** The shares between `before` and now, for the same processes. */
export const since = (before: Snapshot, shopPid: number): Effect.Effect<Shares> =>
  Effect.map(snapshot(shopPid, [...before.postgres.keys()]), (after) => {
    const wall = (after.at - before.at) / 1000
    const percent = (seconds: number) => (100 * seconds) / wall
    let postgres = 0
    for (const [pid, end] of after.postgres) postgres += end - (before.postgres.get(pid) ?? end)
    return {
      shop: Option.flatMap(before.shop, (start) => Option.map(after.shop, (end) => percent(end - start))),
      postgres: before.postgres.size === 0 ? Option.none() : Option.some(percent(postgres)),
      bench: percent(after.bench - before.bench)
    }
  })

export const format = (shares: Shares): string => {
  const pct = (o: Option.Option<number>) => Option.match(o, { onNone: () => "n/a", onSome: (n) => `${n.toFixed(0)}%` })
  return `shop ${pct(shares.shop)}, postgres ${pct(shares.postgres)}, autocannon ${shares.bench.toFixed(0)}%`
}

/** The whole machine from `/proc/stat`, in clock ticks summed over every core; `None` without `/proc`. */
export interface MachineTicks {
  readonly busy: number
  readonly steal: number
  readonly total: number
}

export const machineTicks = (): Option.Option<MachineTicks> => {
  try {
    const line = Fs.readFileSync("/proc/stat", "utf8").split("\n")[0]
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
    const busy = user + nice + system + irq + softirq
    return Option.some({ busy, steal, total: busy + idle + iowait + steal })
  } catch {
    return Option.none()
  }
}

/**
 * Busy and stolen time of the whole machine between two readings, in percent of one core (so up to
 * 100 × cores): everything that ran, the shop and PostgreSQL and every other process alike.
 */
export const machineShare = (
  before: Option.Option<MachineTicks>,
  after: Option.Option<MachineTicks>,
  cores: number
): Option.Option<{ readonly busy: number; readonly steal: number }> =>
  Option.flatMap(before, (b) =>
    Option.flatMap(after, (a) => {
      const total = a.total - b.total
      return total <= 0 ? Option.none() : Option.some({
        busy: (100 * cores * (a.busy - b.busy)) / total,
        steal: (100 * cores * (a.steal - b.steal)) / total
      })
    }))

/**
 * CPU time, run-queue wait and number of times on a CPU of every thread of `pid` (times in seconds),
 * from `/proc/<pid>/task/<tid>/schedstat`: the wait is what a saturated machine costs a process, and
 * wait ÷ slices is how long it waited, on average, each time it became runnable. `None` without
 * `/proc` (or once the process is gone).
 */
export const schedSeconds = (
  pid: number
): Option.Option<{ readonly run: number; readonly wait: number; readonly slices: number }> => {
  try {
    let run = 0
    let wait = 0
    let slices = 0
    for (const tid of Fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const [onCpu, waiting, count] = Fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")
          .map(Number)
        run += onCpu / 1e9
        wait += waiting / 1e9
        slices += count
      } catch {
        // the thread ended in between
      }
    }
    return Option.some({ run, wait, slices })
  } catch {
    return Option.none()
  }
}

/** The same for the main thread only (`/proc/<pid>/schedstat`): a Node process's event loop. */
export const mainThreadSchedSeconds = (
  pid: number
): Option.Option<{ readonly run: number; readonly wait: number; readonly slices: number }> => {
  try {
    const [run, wait, slices] = Fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ").map(Number)
    return Option.some({ run: run / 1e9, wait: wait / 1e9, slices })
  } catch {
    return Option.none()
  }
}
