/**
 * The shutdown run in words: the slowest in-flight booking as the carrier saw it, SIGTERM → exit
 * against it, the shop's own shutdown log step by step, and its CPU meanwhile.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import { ms, type Row } from "../Report.js"
import { shutdownAllowanceMs, type ShutdownOutcome } from "./Options.js"
import type { LogLine } from "./ShopLog.js"
import type { ShutdownData } from "./Shutdown.js"

/** The timings relative to the signal, in ms. */
export const figures = (data: ShutdownData) => {
  const sig = data.stopped.signalledAt
  const latencyMs = Duration.toMillis(data.latency)
  // the slowest in-flight booking, as the carrier saw it: the midpoint of the polls around `pending` → 0
  const slowest = (data.answered.after + data.answered.by) / 2 - sig
  const took = Duration.toMillis(data.stopped.took)
  return {
    sig,
    slowest,
    slowestHalfWidth: (data.answered.by - data.answered.after) / 2,
    // the same from the arrivals: the last of the N arrived between two polls, and takes exactly L
    fromArrival: [data.loaded.after + latencyMs - sig, data.loaded.by + latencyMs - sig] as const,
    took,
    allowed: slowest + shutdownAllowanceMs
  }
}

/** CPU of the shop: SIGTERM → exit, and from the last carrier answer → exit. */
const cpuText = (data: ShutdownData) => {
  const { sig, slowest } = figures(data)
  const cpuFrom = (at: number) => {
    const start = data.shopCpu.filter((c) => c.at <= at).at(-1) ?? data.shopCpu[0]
    const end = data.shopCpu.at(-1)
    return start === undefined || end === undefined
      ? "n/a"
      : `${Math.round(1000 * (end.run - start.run))} ms on a CPU + ${
        Math.round(1000 * (end.wait - start.wait))
      } ms waiting for one`
  }
  return `SIGTERM → exit ${cpuFrom(sig)}; last carrier answer → exit ${cpuFrom(sig + slowest)} (schedstat every 5 ms)`
}

const timeline = (data: ShutdownData) => {
  const { sig, slowest, slowestHalfWidth, took } = figures(data)
  const find = (pattern: RegExp) => Option.fromNullable(data.logs.find((line) => pattern.test(line.message)))
  const rel = (o: Option.Option<LogLine>) => Option.map(o, (line) => line.at - sig)
  const fmt = (o: Option.Option<number>) => Option.match(o, { onNone: () => "n/a", onSome: (v) => `+${Math.round(v)}` })
  const lastStored = Option.map(data.stored, (s) => (s.after + s.by) / 2 - sig)
  return `signal handled ${fmt(rel(find(/^shutdown: SIGTERM received/)))}, ${
    Option.match(find(/^pool carrier: released \d+ queued/), {
      onNone: () => "no queued jobs released",
      onSome: (l) => `${l.message} at +${l.at - sig}`
    })
  }, last carrier answer +${Math.round(slowest)} (±${Math.round(slowestHalfWidth)}), last booking committed ${
    fmt(lastStored)
  } (SQL, every 5 ms), pool carrier done ${fmt(rel(find(/^shutdown: pool carrier done in/)))}, database pool closing ${
    fmt(rel(find(/^shutdown: closing the database pool/)))
  }, shutdown complete ${fmt(rel(find(/^shutdown (complete|finished with errors) in/)))}, exit +${took} ms`
}

/** The two lines printed once the run is done. */
export const summary = (data: ShutdownData): ReadonlyArray<string> => {
  const { fromArrival, slowest, took } = figures(data)
  return [
    `carrier SIGTERM: the shop's CPU: ${cpuText(data)}`,
    `carrier SIGTERM: N=${data.n} in flight (L=${ms(data.latency)}; all ${data.n} pending ${
      data.loaded.by - data.seededAt
    } ms after the seed); ` +
    `SIGTERM → exit ${took} ms; slowest in-flight booking answered +${Math.round(slowest)} ms ` +
    `(from the arrivals: +${Math.round(fromArrival[0])}…+${Math.round(fromArrival[1])} ms); ${timeline(data)}`
  ]
}

export const outcome = (data: ShutdownData): ShutdownOutcome => {
  const { allowed, fromArrival, slowest, slowestHalfWidth, took } = figures(data)
  const { checks, n, stopped } = data
  const verdict = took <= allowed ? "meets" : "misses"
  const config = `N=${n} bookings in flight and ${n} queued, L=${ms(data.latency)} (jitter 0), ` +
    `CARRIER_DISPATCH_INTERVAL=20 millis; SIGTERM once the simulator holds ${n} pending (polled every 5 ms)`
  const rows: Array<Row> = [
    {
      figure: `SIGTERM → exit with N=${n} bookings in flight`,
      value: `${took} ms vs slowest in-flight booking + ${shutdownAllowanceMs} ms = ${
        Math.round(allowed)
      } ms: ${verdict} the target (overhead ${Math.round(took - slowest)} ms), exit code ${
        stopped.code ?? `none (signal ${stopped.signal})`
      }`,
      config: `${config}; slowest = the carrier's last answer (its requests.pending reaching 0, polled every 5 ms)`
    },
    {
      figure: "  slowest in-flight booking, after SIGTERM",
      value: `+${Math.round(slowest)} ms (±${Math.round(slowestHalfWidth)}); from the arrivals + L: +${
        Math.round(fromArrival[0])
      }…+${Math.round(fromArrival[1])} ms`,
      config: `the ${n} arrived at the carrier over ${data.loaded.by - data.seededAt} ms after the seed's commit`
    },
    {
      figure: "  SIGTERM → exit, step by step (ms after SIGTERM)",
      value: timeline(data),
      config: "the shop's JSON log (LOG_LEVEL=Info) and SQL polled every 5 ms"
    },
    {
      figure: "  the shop's CPU during that shutdown",
      value: cpuText(data),
      config: "/proc/<pid>/schedstat of the shop's main thread (the event loop)"
    },
    {
      figure: "  after the exit",
      value:
        `${checks.shipped} shipped, ${checks.packed} packed (${checks.leased} still leased, ${checks.attempted} of them sent to the carrier); ` +
        `${checks.shipments} shipments at the carrier, ${
          checks.problems.length === 0 ? "one per key" : checks.problems.join("; ")
        }`,
      config: "orders in SQL, simulator /v1/stats"
    }
  ]
  return { rows, failures: data.failures, tookMs: took, allowedMs: allowed }
}
