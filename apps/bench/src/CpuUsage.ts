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
