/**
 * The throughput run, measured: M `packed` orders committed in one statement once the shop is ready;
 * the clock runs from that commit until none of them is `packed`. While it runs, the simulator's
 * `requests.pending`, the shop's pool gauges and its PostgreSQL sessions are sampled every 200 ms.
 * Returns the figures as data; `ThroughputReport` says what they mean.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Os from "node:os"
import * as PerfHooks from "node:perf_hooks"
import { BenchError } from "../BenchError.js"
import * as CarrierSimProcess from "../CarrierSimProcess.js"
import * as CpuUsage from "../CpuUsage.js"
import { mean } from "../Figures.js"
import { int, ms } from "../Report.js"
import * as ShopMetrics from "../ShopMetrics.js"
import * as ShopProcess from "../ShopProcess.js"
import type { CarrierOptions } from "./Options.js"
import { type Sched, schedDelta, schedOf } from "./Sched.js"
import { backends, checkOnePerKey, deleteOrders, seedPacked, startSimAndShop } from "./Setup.js"
import * as Sampling from "./ThroughputSampling.js"

export interface Range {
  readonly first: number
  readonly last: number
}

/** The steady state (10% → 90% shipped) and the means of the samples inside it. */
export interface Steady
  extends Pick<Sampling.Sample, "pending" | "inFlight" | "queued" | "active" | "ioWait" | "inTransaction">
{
  readonly steady: Option.Option<{ readonly perSecond: number; readonly from: number; readonly to: number }>
  /** The steady rate, or the whole run's without a steady state. */
  readonly rate: number
  readonly samples: number
  /** Share of the samples with every pooled connection busy. */
  readonly saturated: number
  readonly sessionsMax: number
  /** PostgreSQL transactions per booking over the window. */
  readonly perBookingTx: Option.Option<number>
  /** `wait_event_type:wait_event` → samples it was seen in. */
  readonly waitCounts: ReadonlyMap<string, number>
}

export interface Cpu {
  /** Seconds between the two snapshots. */
  readonly wall: number
  readonly shop: Sched
  readonly sim: Sched
  readonly postgres: Sched
  readonly machine: Option.Option<{ readonly busy: number; readonly steal: number }>
  readonly cores: number
  /** How late the bench's own 10 ms timer fired, p50 and p99, in ms. */
  readonly timerLateP50: number
  readonly timerLateP99: number
}

export interface Checks {
  readonly stats: CarrierSimProcess.Stats
  readonly onePerKey: ReadonlyArray<string>
  readonly db: { readonly shipped: number; readonly events: number; readonly retried: number; readonly leased: number }
  readonly outcomes: Record<string, number>
  readonly stopped: ShopProcess.Terminated
}

export interface ThroughputData {
  readonly n: number
  readonly latency: Duration.Duration
  readonly count: number
  /** N/L, bookings/s. */
  readonly ideal: number
  readonly poolSize: number
  readonly elapsed: Duration.Duration
  readonly perSecond: number
  readonly steady: Steady
  readonly cpu: Cpu
  readonly checks: Checks
  readonly failures: ReadonlyArray<string>
}

const applicationName = "bench-carrier-throughput"

const startProcesses = (options: CarrierOptions) =>
  startSimAndShop(options, {
    latency: options.carrierLatency,
    simName: "carrier-sim",
    shopName: "shop-carrier",
    applicationName
  })

/** The CPU counters of the shop, the simulator, the shop's backends and the machine, now. */
const snapshot = (sql: PgClient.PgClient, shopPid: number, simPid: number) =>
  Effect.gen(function*() {
    const postgres = yield* backends(sql, applicationName)
    return {
      at: performance.now(),
      shop: schedOf([shopPid]),
      sim: schedOf([simPid]),
      postgres: schedOf(postgres),
      machine: CpuUsage.machineTicks()
    }
  })

/** Polls every 25 ms until none of `range` is packed; fails past `timeout` (from `t0`). Progress: (time, done). */
const waitShipped = (
  sql: PgClient.PgClient,
  own: Sampling.Own,
  range: Range,
  count: number,
  timeout: Duration.Duration,
  t0: number
) =>
  Effect.gen(function*() {
    const remaining = Effect.map(
      own(sql<{ n: number }>`SELECT count(*)::int AS n FROM orders
                             WHERE status = 'packed' AND id BETWEEN ${range.first} AND ${range.last}`),
      ([row]) => row.n
    )
    const progress: Array<{ readonly at: number; readonly done: number }> = []
    while (true) {
      const left = yield* remaining
      const now = Date.now()
      progress.push({ at: now, done: count - left })
      if (left === 0) return { progress, elapsed: Duration.millis(Date.now() - t0) }
      if (now - t0 > Duration.toMillis(timeout)) {
        const [state] = yield* sql<{ failed: number; errors: number }>`
          SELECT count(*) FILTER (WHERE carrier_failed)::int AS failed,
                 count(*) FILTER (WHERE carrier_last_error IS NOT NULL)::int AS errors
          FROM orders WHERE id BETWEEN ${range.first} AND ${range.last}`
        return yield* new BenchError({
          message: `carrier bookings: ${left} of ${count} orders still packed after ` +
            `${Duration.format(timeout)} (${state.failed} marked failed, ${state.errors} with an error)`
        })
      }
      yield* Effect.sleep(Duration.millis(25))
    }
  })

/** The steady state, without the ramp-up (the first L) and the tail (the last partial round). */
export const steadyState = (
  progress: ReadonlyArray<{ readonly at: number; readonly done: number }>,
  samples: ReadonlyArray<Sampling.Sample>,
  count: number,
  perSecond: number,
  poolSize: number
): Steady => {
  const at = (fraction: number) => progress.find((p) => p.done >= fraction * count)
  const p10 = at(0.1)
  const p90 = at(0.9)
  const steady = p10 !== undefined && p90 !== undefined && p90.at > p10.at
    ? Option.some({ perSecond: (1000 * (p90.done - p10.done)) / (p90.at - p10.at), from: p10.at, to: p90.at })
    : Option.none()
  const window = Option.match(steady, {
    onNone: () => samples,
    onSome: ({ from, to }) => samples.filter((s) => s.at >= from && s.at <= to)
  })
  const rate = Option.match(steady, { onNone: () => perSecond, onSome: (s) => s.perSecond })
  const first = window[0]
  const last = window[window.length - 1]
  const waitCounts = new Map<string, number>()
  for (const s of window) for (const w of s.waits) waitCounts.set(w, (waitCounts.get(w) ?? 0) + 1)
  return {
    steady,
    rate,
    samples: window.length,
    pending: mean(window.map((s) => s.pending)),
    inFlight: mean(window.map((s) => s.inFlight)),
    queued: mean(window.map((s) => s.queued)),
    active: mean(window.map((s) => s.active)),
    ioWait: mean(window.map((s) => s.ioWait)),
    inTransaction: mean(window.map((s) => s.inTransaction)),
    saturated: window.length === 0
      ? 0
      : window.filter((s) => s.active + s.inTransaction >= poolSize).length / window.length,
    sessionsMax: Math.max(0, ...window.map((s) => s.sessions)),
    // lease renewals, persists and the dispatcher's ticks, per booking
    perBookingTx: first !== undefined && last !== undefined && last.at > first.at
      ? Option.some((last.transactions - first.transactions) / ((rate * (last.at - first.at)) / 1000))
      : Option.none<number>(),
    waitCounts
  }
}

type Snapshot = Effect.Effect.Success<ReturnType<typeof snapshot>>

const cpuBetween = (before: Snapshot, after: Snapshot, loopDelay: PerfHooks.IntervalHistogram): Cpu => {
  const cores = Os.cpus().length
  // the histogram holds whole intervals: the resolution (10 ms) is subtracted
  const late = (p: number) => Math.max(0, loopDelay.percentile(p) / 1e6 - 10)
  return {
    wall: (after.at - before.at) / 1000,
    shop: schedDelta(before.shop, after.shop),
    sim: schedDelta(before.sim, after.sim),
    postgres: schedDelta(before.postgres, after.postgres),
    machine: CpuUsage.machineShare(before.machine, after.machine, cores),
    cores,
    timerLateP50: late(50),
    timerLateP99: late(99)
  }
}

/** One shipment per order at the carrier, each order shipped once by one attempt; then the shop stopped. */
const check = (
  sql: PgClient.PgClient,
  sim: CarrierSimProcess.CarrierSimProcess,
  shop: ShopProcess.ShopProcess,
  range: Range,
  count: number
) =>
  Effect.gen(function*() {
    const failures: Array<string> = []
    const stats = yield* sim.stats
    const ids = Array.from({ length: range.last - range.first + 1 }, (_, i) => range.first + i)
    const onePerKey = checkOnePerKey(stats, ids)
    if (stats.shipments !== count) failures.push(`carrier throughput: ${stats.shipments} shipments for ${count} orders`)
    failures.push(...onePerKey.map((p) => `carrier throughput: ${p}`))
    if (stats.requests.failed > 0 || stats.requests.rejected > 0) {
      failures.push(`carrier throughput: ${stats.requests.failed} failed, ${stats.requests.rejected} rejected`)
    }
    const { first, last } = range
    const [db] = yield* sql<{ shipped: number; events: number; retried: number; leased: number }>`
      SELECT (SELECT count(*) FROM orders WHERE id BETWEEN ${first} AND ${last} AND status = 'shipped'
                AND tracking_number IS NOT NULL)::int AS shipped,
             (SELECT count(*) FROM order_events WHERE order_id BETWEEN ${first} AND ${last}
                AND to_status = 'shipped')::int AS events,
             (SELECT count(*) FROM orders WHERE id BETWEEN ${first} AND ${last}
                AND carrier_attempts <> 1)::int AS retried,
             (SELECT count(*) FROM orders WHERE id BETWEEN ${first} AND ${last}
                AND lease_owner IS NOT NULL)::int AS leased`
    if (db.shipped !== count || db.events !== count || db.leased > 0) {
      failures.push(
        `carrier throughput: ${db.shipped} orders shipped with a tracking number, ${db.events} shipped events, ` +
          `${db.leased} still leased, for ${count} orders`
      )
    }
    const outcomes = Sampling.bookingOutcomes(yield* ShopMetrics.scrape(shop.baseUrl))
    const stopped = yield* shop.terminate(Duration.seconds(30))
    if (stopped.code !== 0) failures.push(`shop-carrier exited with ${stopped.code ?? stopped.signal}`)
    const checks: Checks = { stats, onePerKey, db, outcomes, stopped }
    return { checks, failures }
  })

export const run = (sql: PgClient.PgClient, options: CarrierOptions): Effect.Effect<ThroughputData, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const n = options.carrierConcurrency
    const count = options.carrierOrders
    const ideal = (1000 * n) / Duration.toMillis(options.carrierLatency)
    const poolSize = Number(options.env.DATABASE_POOL_SIZE ?? "") || 10
    const { shop, sim } = yield* startProcesses(options)
    yield* Effect.sync(() =>
      console.log(
        `carrier throughput: N=${n}, L=${ms(options.carrierLatency)}, ${int(count)} packed orders, ideal N/L = ${
          int(ideal)
        }/s…`
      )
    )
    const sampling = Sampling.make(sql, sim, shop, applicationName)

    const range = yield* seedPacked(sql, count, "carrier")
    const t0 = Date.now()
    const cpuBefore = yield* snapshot(sql, shop.pid, sim.pid)
    // how late an almost idle Node process on this machine gets its timers: the scheduling delay
    // that every hop of a booking (shop, simulator, PostgreSQL) pays on a busy machine
    const loopDelay = PerfHooks.monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    const sampler = yield* Effect.fork(Effect.repeat(sampling.sample, Schedule.spaced(Duration.millis(200))))
    const { elapsed, progress } = yield* waitShipped(sql, sampling.own, range, count, options.carrierTimeout, t0)
    yield* Fiber.interrupt(sampler)
    const cpuAfter = yield* snapshot(sql, shop.pid, sim.pid)
    loopDelay.disable()
    const perSecond = count / Math.max(Duration.toSeconds(elapsed), 0.001)

    const { checks, failures } = yield* check(sql, sim, shop, range, count)
    yield* deleteOrders(sql, range)
    return {
      n,
      latency: options.carrierLatency,
      count,
      ideal,
      poolSize,
      elapsed,
      perSecond,
      steady: steadyState(progress, sampling.samples, count, perSecond, poolSize),
      cpu: cpuBetween(cpuBefore, cpuAfter, loopDelay),
      checks,
      failures
    }
  })).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `carrier throughput: ${cause.message}`, cause }))
  )
