/**
 * The shutdown run, measured: 2·N packed orders (N in flight, N queued), SIGTERM once the simulator
 * holds N pending bookings and the pool N queued, then SIGTERM → exit next to the moment the
 * simulator answered the last of them, with the shop's own (JSON) shutdown log. Returns the timings
 * as data; `ShutdownReport` says what they mean.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { BenchError } from "../BenchError.js"
import * as CarrierSimProcess from "../CarrierSimProcess.js"
import * as CpuUsage from "../CpuUsage.js"
import { ms } from "../Report.js"
import * as ShopMetrics from "../ShopMetrics.js"
import * as ShopProcess from "../ShopProcess.js"
import type { CarrierOptions } from "./Options.js"
import { checkOnePerKey, deleteOrders, pollWindow, seedPacked, startSimAndShop } from "./Setup.js"
import { type LogLine, parseLogLine } from "./ShopLog.js"

/** The poll times around a state being reached: the start of the last miss and the end of the first hit. */
export interface Window {
  readonly after: number
  readonly by: number
}

export interface ShutdownData {
  readonly n: number
  readonly latency: Duration.Duration
  readonly name: string
  readonly seededAt: number
  /** The last of the N bookings reached the carrier in this window. */
  readonly loaded: Window
  readonly stopped: ShopProcess.Terminated
  /** The carrier's `requests.pending` reached 0 in this window. */
  readonly answered: Window
  /** N orders were `shipped` in SQL in this window (none if not within 2 s of the exit). */
  readonly stored: Option.Option<Window>
  /** The shop's JSON log. */
  readonly logs: ReadonlyArray<LogLine>
  /** The shop's main thread's CPU seconds, sampled every 5 ms from the signal to its exit. */
  readonly shopCpu: ReadonlyArray<{ readonly at: number; readonly run: number; readonly wait: number }>
  readonly checks: {
    readonly shipped: number
    readonly packed: number
    readonly leased: number
    readonly attempted: number
    readonly shipments: number
    readonly problems: ReadonlyArray<string>
  }
  readonly failures: ReadonlyArray<string>
}

const name = "shop-carrier-sigterm"

const startProcesses = (options: CarrierOptions, logs: Array<LogLine>) => {
  const latencyMs = Duration.toMillis(options.carrierShutdownLatency)
  return startSimAndShop(options, {
    latency: options.carrierShutdownLatency,
    simName: "carrier-sim-sigterm",
    shopName: name,
    applicationName: "bench-carrier-sigterm",
    env: {
      // its own shutdown log (timestamps to the millisecond) splits SIGTERM → exit
      LOG_FORMAT: "json",
      LOG_LEVEL: "Info",
      CARRIER_SHUTDOWN_TIMEOUT: `${Math.max(20_000, 3 * latencyMs)} millis`,
      SHUTDOWN_TIMEOUT: `${Math.max(25_000, 4 * latencyMs)} millis`
    },
    output: {
      echo: false,
      onLine: (line) =>
        Option.match(parseLogLine(line), {
          onNone: () => process.stderr.write(`[${name}] ${line}\n`),
          onSome: (parsed) => {
            logs.push(parsed)
            process.stderr.write(
              `[${name}] ${new Date(parsed.at).toISOString().slice(11, 23)} ${parsed.level} ${parsed.message}${
                parsed.cause ? ` ${parsed.cause}` : ""
              }\n`
            )
          }
        })
    }
  })
}

type Processes = Effect.Effect.Success<ReturnType<typeof startProcesses>>

/** Seeds 2·N and waits until N are pending at the carrier and N queued in the shop's pool. */
const load = (sql: PgClient.PgClient, { shop, sim }: Processes, n: number, latency: Duration.Duration) =>
  Effect.gen(function*() {
    const gauges = Effect.map(ShopMetrics.scrape(shop.baseUrl), (body) => ({
      inFlight: ShopMetrics.metric(body, "lifecycle_pool_active_jobs", { pool: "carrier" }),
      queued: ShopMetrics.metric(body, "lifecycle_pool_queue_depth", { pool: "carrier" })
    }))
    // 2·N: the dispatcher claims up to 2·N, so N wait out the latency and N wait in the pool's queue
    const range = yield* seedPacked(sql, 2 * n, "sigterm")
    console.log(`carrier SIGTERM: ${2 * n} packed orders, N=${n}, L=${ms(latency)}; waiting for ${n} in flight…`)
    const seededAt = Date.now()
    const bound = Duration.seconds(Math.max(10, (2 * Duration.toMillis(latency)) / 1000))
    // the last of the N reached the carrier between these two polls
    const loaded = yield* pollWindow(
      sim.stats,
      (stats) => stats.requests.pending === n,
      Duration.millis(5),
      bound,
      `${n} bookings pending at the carrier`
    )
    yield* pollWindow(
      gauges,
      (pool) => pool.inFlight === n && pool.queued === n,
      Duration.millis(5),
      bound,
      `${n} bookings in flight and ${n} queued in the shop's pool`
    )
    const atSignal = yield* sim.stats
    if (atSignal.shipments !== 0 || atSignal.requests.pending !== n) {
      return yield* new BenchError({
        message:
          `carrier SIGTERM: ${atSignal.shipments} bookings were already answered (${atSignal.requests.pending} ` +
          `pending) when the shop's pool held ${n} in flight and ${n} queued: raise --carrier-shutdown-latency`
      })
    }
    return { range, seededAt, loaded }
  })

/**
 * SIGTERM, watched from the side: from here on nothing touches the shop; the simulator and SQL are
 * polled only from 100 ms before the last of the N bookings can be answered at the earliest (it
 * arrived after the last poll that saw fewer than N pending, and takes exactly L).
 */
const signal = (
  sql: PgClient.PgClient,
  { shop, sim }: Processes,
  n: number,
  range: { readonly first: number; readonly last: number },
  notBefore: number
) =>
  Effect.gen(function*() {
    const carrierDone = yield* Effect.fork(pollWindow(
      sim.stats,
      (stats) => stats.requests.pending === 0,
      Duration.millis(5),
      Duration.seconds(60),
      "the carrier answered every booking",
      notBefore
    ))
    const persisted = yield* Effect.fork(pollWindow(
      Effect.map(
        sql<{ n: number }>`SELECT count(*)::int AS n FROM orders
                           WHERE status = 'shipped' AND id BETWEEN ${range.first} AND ${range.last}`,
        ([row]) => row.n
      ),
      (shipped) => shipped >= n,
      Duration.millis(5),
      Duration.seconds(60),
      `${n} orders shipped`,
      notBefore
    ))
    // the CPU of the shop's main thread (its event loop: helper threads end during the shutdown and take
    // their counters with them) from the signal to its exit; /proc is gone at the exit: the last reading counts
    const shopCpu: Array<{ readonly at: number; readonly run: number; readonly wait: number }> = []
    const readShopCpu = Effect.sync(() =>
      Option.map(
        CpuUsage.mainThreadSchedSeconds(shop.pid),
        (s) => shopCpu.push({ at: Date.now(), run: s.run, wait: s.wait })
      )
    )
    yield* readShopCpu
    const cpuSampler = yield* Effect.fork(
      Effect.repeat(readShopCpu, { until: Option.isNone, schedule: Schedule.spaced(Duration.millis(5)) })
    )
    const stopped = yield* shop.terminate(Duration.seconds(60))
    yield* Fiber.interrupt(cpuSampler)
    const answered = yield* Fiber.join(carrierDone)
    const stored = yield* Fiber.join(persisted).pipe(Effect.timeout(Duration.seconds(2)), Effect.option)
    return { stopped, answered, stored: Option.map(stored, ({ after, by }) => ({ after, by })), shopCpu }
  })

/** The N in flight shipped and persisted, the N queued released untouched, one shipment per key. */
const check = (
  sql: PgClient.PgClient,
  sim: CarrierSimProcess.CarrierSimProcess,
  n: number,
  range: { readonly first: number; readonly last: number },
  stopped: ShopProcess.Terminated
) =>
  Effect.gen(function*() {
    const failures: Array<string> = []
    if (stopped.code !== 0) failures.push(`${name} exited with ${stopped.code ?? stopped.signal}`)
    // (the bench's client does not transform column names: lower-case aliases)
    const rows = yield* sql<{ id: string; status: string; leased: boolean; attempts: number }>`
      SELECT id::text AS id, status, lease_owner IS NOT NULL AS leased, carrier_attempts AS attempts
      FROM orders WHERE id BETWEEN ${range.first} AND ${range.last} ORDER BY id`
    const shipped = rows.filter((row) => row.status === "shipped")
    const packed = rows.filter((row) => row.status === "packed")
    const leased = rows.filter((row) => row.leased).length
    const attempted = packed.filter((row) => row.attempts !== 0).length
    if (shipped.length !== n || packed.length !== n || leased > 0 || attempted > 0) {
      failures.push(
        `carrier SIGTERM: ${shipped.length} shipped and ${packed.length} packed of ${2 * n} (expected ${n} each), ` +
          `${leased} still leased, ${attempted} packed order(s) sent to the carrier`
      )
    }
    const stats = yield* sim.stats
    const problems = checkOnePerKey(stats, shipped.map((row) => Number(row.id)))
    if (stats.shipments !== n || problems.length > 0) {
      failures.push(`carrier SIGTERM: ${stats.shipments} shipments for ${n} in flight; ${problems.join("; ")}`)
    }
    const checks = {
      shipped: shipped.length,
      packed: packed.length,
      leased,
      attempted,
      shipments: stats.shipments,
      problems
    }
    return { checks, failures }
  })

export const run = (sql: PgClient.PgClient, options: CarrierOptions): Effect.Effect<ShutdownData, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const n = options.carrierConcurrency
    const latency = options.carrierShutdownLatency
    const logs: Array<LogLine> = []
    const processes = yield* startProcesses(options, logs)
    const { loaded, range, seededAt } = yield* load(sql, processes, n, latency)
    const notBefore = loaded.after + Duration.toMillis(latency) - 100
    const { answered, shopCpu, stopped, stored } = yield* signal(sql, processes, n, range, notBefore)
    const { checks, failures } = yield* check(sql, processes.sim, n, range, stopped)
    yield* deleteOrders(sql, range)
    return {
      n,
      latency,
      name,
      seededAt,
      loaded: { after: loaded.after, by: loaded.by },
      stopped,
      answered: { after: answered.after, by: answered.by },
      stored,
      logs,
      shopCpu,
      checks,
      failures
    }
  })).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `carrier SIGTERM: ${cause.message}`, cause }))
  )
