/**
 * The carrier figures of the carrier-integration issue, against the standalone simulator
 * (`node apps/carrier-sim/dist/main.js`, jitter 0, no failures, tracking events an hour away so the
 * feed stays idle) and a shop of their own with `CARRIER_URL` pointing at it:
 *
 * 1. **Throughput.** "With carrier latency L and concurrency N, bookings/s reach at least 90% of N/L."
 *    M `packed` orders are committed in one statement once the shop is ready; the clock runs from
 *    that commit until none of them is `packed`. While it runs, the simulator's `requests.pending`
 *    (bookings waiting out L), the shop's pool gauges and its PostgreSQL sessions are sampled: by
 *    Little's law, bookings/s = pending ÷ L, and (in flight ÷ bookings/s) − L is what a worker spends
 *    per booking outside the carrier call.
 * 2. **Shutdown.** "Shutdown with N bookings in flight takes no longer than the slowest in-flight
 *    booking plus 100 ms." 2·N packed orders (N in flight, N queued), SIGTERM once the simulator holds
 *    N pending bookings and the pool N queued, then SIGTERM → exit next to the moment the simulator
 *    answered the last of them, split with the shop's own (JSON) shutdown log.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Os from "node:os"
import * as PerfHooks from "node:perf_hooks"
import { BenchError } from "./BenchError.js"
import * as CarrierSimProcess from "./CarrierSimProcess.js"
import * as CpuUsage from "./CpuUsage.js"
import { mean } from "./Figures.js"
import { int, ms, percent as pct, type Row } from "./Report.js"
import * as ShopMetrics from "./ShopMetrics.js"
import * as ShopProcess from "./ShopProcess.js"

export interface CarrierOptions {
  readonly carrierLatency: Duration.Duration
  readonly carrierConcurrency: number
  readonly carrierOrders: number
  readonly carrierShutdownLatency: Duration.Duration
  readonly carrierTimeout: Duration.Duration
  readonly readyTimeout: Duration.Duration
  /** The shops' environment (without `DATABASE_URL`). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly url: Redacted.Redacted
  readonly cwd: string
}

export interface Outcome {
  readonly rows: ReadonlyArray<Row>
  readonly failures: ReadonlyArray<string>
}

export interface ThroughputOutcome extends Outcome {
  /** Bookings/s from the seed's commit to the last order shipped, and the ideal N/L. */
  readonly perSecond: number
  readonly ideal: number
}

export interface ShutdownOutcome extends Outcome {
  /** SIGTERM → exit, and the slowest in-flight booking + {@link shutdownAllowanceMs}: the target. */
  readonly tookMs: number
  readonly allowedMs: number
}

/** The target of the issue: bookings/s ≥ 90% of N/L. */
export const throughputTarget = 0.9
/** The target of the issue: SIGTERM → exit ≤ the slowest in-flight booking + 100 ms. */
export const shutdownAllowanceMs = 100

const millis = (d: Duration.Duration) => `${Duration.toMillis(d)} millis`

/** The shop's database URL with an `application_name`, so that its sessions can be told from ours. */
export const withApplicationName = (url: Redacted.Redacted, name: string): string => {
  const parsed = new URL(Redacted.value(url))
  parsed.searchParams.set("application_name", name)
  return parsed.toString()
}

/** `shop_carrier_bookings_total` by outcome. */
export const bookingOutcomes = (text: string): Record<string, number> =>
  Object.fromEntries(
    Array.from(text.matchAll(/^shop_carrier_bookings_total\{outcome="(\w+)"\} (\d+)$/gm), (m) => [m[1], Number(m[2])])
  )

/** One line of the shop's `LOG_FORMAT=json` log (`Logger.json`). */
export interface LogLine {
  readonly at: number
  readonly level: string
  readonly message: string
  readonly cause?: string | undefined
}

export const parseLogLine = (line: string): Option.Option<LogLine> => {
  try {
    const parsed = JSON.parse(line) as { message?: unknown; logLevel?: unknown; timestamp?: unknown; cause?: unknown }
    const at = Date.parse(String(parsed.timestamp))
    if (!Number.isFinite(at)) return Option.none()
    return Option.some({
      at,
      level: String(parsed.logLevel),
      message: Array.isArray(parsed.message) ? parsed.message.join(" ") : String(parsed.message),
      cause: typeof parsed.cause === "string" && parsed.cause !== "" ? parsed.cause : undefined
    })
  } catch {
    return Option.none()
  }
}

const oneDecimal = (n: number) => n.toFixed(1)

/** M packed orders, one line each, in one transaction (with `ANALYZE`, as the fulfillment runs); their id range. */
export const seedPacked = (sql: PgClient.PgClient, count: number, tag: string) =>
  sql.withTransaction(Effect.zipLeft(
    sql<{ first: string; last: string }>`
      WITH o AS (
        INSERT INTO orders (email, status, total_cents)
        SELECT ${tag} || g || '@bench.example', 'packed', 500 FROM generate_series(1, ${count}) AS g
        RETURNING id
      ), lines AS (
        INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
        SELECT id, 1, 'BENCH-1', 1, 500 FROM o
      )
      SELECT min(id)::text AS first, max(id)::text AS last FROM o`,
    sql`ANALYZE orders`
  )).pipe(Effect.map(([row]) => ({ first: Number(row.first), last: Number(row.last) })))

const deleteOrders = (sql: PgClient.PgClient, range: { readonly first: number; readonly last: number }) =>
  sql.withTransaction(Effect.zipRight(
    sql`DELETE FROM order_events WHERE order_id BETWEEN ${range.first} AND ${range.last}`,
    sql`DELETE FROM orders WHERE id BETWEEN ${range.first} AND ${range.last}`
  ))

/** Every key booked exactly once, and the keys are exactly `order-<id>` of `ids`. */
const checkOnePerKey = (stats: CarrierSimProcess.Stats, ids: ReadonlyArray<number>): Array<string> => {
  const problems: Array<string> = []
  const keys = Object.entries(stats.bookingsByKey)
  const twice = keys.filter(([, n]) => n !== 1)
  if (twice.length > 0) problems.push(`${twice.length} key(s) booked more than once, e.g. ${twice[0][0]}`)
  const expected = new Set(ids.map((id) => `order-${id}`))
  const unexpected = keys.filter(([key]) => !expected.has(key))
  if (keys.length !== expected.size || unexpected.length > 0) {
    problems.push(`${keys.length} keys at the carrier for ${expected.size} orders (${unexpected.length} unexpected)`)
  }
  return problems
}

interface Sample {
  readonly at: number
  readonly pending: number
  readonly inFlight: number
  readonly queued: number
  /** The shop's PostgreSQL sessions running a statement (`active`), of which waiting on I/O or an LWLock. */
  readonly active: number
  readonly ioWait: number
  /** Sessions inside a transaction, waiting for the shop's next statement (`idle in transaction`). */
  readonly inTransaction: number
  readonly sessions: number
  /** `wait_event_type:wait_event` of the active sessions that wait, counted. */
  readonly waits: ReadonlyArray<string>
  /** Transactions of this database so far (`pg_stat_database`, flushed by each backend within ~1 s), less ours. */
  readonly transactions: number
}

const carrierShopEnv = (options: CarrierOptions, simUrl: string, applicationName: string) => ({
  ...options.env,
  DATABASE_URL: withApplicationName(options.url, applicationName),
  CARRIER_URL: simUrl,
  CARRIER_CONCURRENCY: String(options.carrierConcurrency),
  CARRIER_DISPATCH_INTERVAL: "20 millis",
  // nothing else runs: no fulfillment ticks, no outbox sweeps (the feed is idle: no event is due)
  FULFILLMENT_INTERVAL: "1 hour",
  OUTBOX_SWEEP_INTERVAL: "1 hour"
})

/** Backends of `applicationName` in this database. */
const backends = (sql: PgClient.PgClient, applicationName: string) =>
  Effect.map(
    sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
                         WHERE datname = current_database() AND application_name = ${applicationName}`,
    (rows) => rows.map((row) => Number(row.pid))
  )

interface Sched {
  readonly run: number
  readonly wait: number
  readonly slices: number
}

/** CPU and run-queue wait, in seconds, of a set of processes (summed over their threads). */
const schedOf = (pids: ReadonlyArray<number>): ReadonlyMap<number, Sched> =>
  new Map(pids.flatMap((pid) => Option.toArray(Option.map(CpuUsage.schedSeconds(pid), (s) => [pid, s] as const))))

/** What `after` adds to `before`; a process missing from `before` started since (counted whole). */
const schedDelta = (before: ReadonlyMap<number, Sched>, after: ReadonlyMap<number, Sched>): Sched => {
  let run = 0
  let wait = 0
  let slices = 0
  for (const [pid, end] of after) {
    const start = before.get(pid) ?? { run: 0, wait: 0, slices: 0 }
    run += end.run - start.run
    wait += end.wait - start.wait
    slices += end.slices - start.slices
  }
  return { run, wait, slices }
}

// ---------------------------------------------------------------------------------------------------
// 1. throughput

export const throughput = (
  sql: PgClient.PgClient,
  options: CarrierOptions
): Effect.Effect<ThroughputOutcome, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const n = options.carrierConcurrency
    const latency = options.carrierLatency
    const latencyMs = Duration.toMillis(latency)
    const count = options.carrierOrders
    const ideal = (1000 * n) / latencyMs
    const poolSize = Number(options.env.DATABASE_POOL_SIZE ?? "") || 10
    const failures: Array<string> = []
    const applicationName = "bench-carrier-throughput"

    const sim = yield* CarrierSimProcess.start({
      name: "carrier-sim",
      cwd: options.cwd,
      settings: {
        CARRIER_SIM_LATENCY: millis(latency),
        CARRIER_SIM_JITTER: "0 millis",
        CARRIER_SIM_FAILURE_RATE: "0",
        CARRIER_SIM_IN_TRANSIT_AFTER: "1 hour",
        CARRIER_SIM_DELIVERED_AFTER: "1 hour"
      }
    })
    const shop = yield* ShopProcess.start({
      name: "shop-carrier",
      cwd: options.cwd,
      env: {
        ...carrierShopEnv(options, sim.url, applicationName),
        CARRIER_TIMEOUT: `${Math.max(10_000, 5 * latencyMs)} millis`
      },
      readyTimeout: options.readyTimeout
    })
    console.log(
      `carrier throughput: N=${n}, L=${ms(latency)}, ${int(count)} packed orders, ideal N/L = ${int(ideal)}/s…`
    )

    const metricsText = ShopMetrics.scrape(shop.baseUrl)
    const sessions = Effect.map(
      sql<{ active: number; io: number; tx: number; sessions: number; xacts: number }>`
        SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database
                WHERE datname = current_database())::float8 AS xacts,
               count(*) FILTER (WHERE state = 'active')::int AS active,
               count(*) FILTER (WHERE state = 'active' AND wait_event_type IN ('IO', 'LWLock'))::int AS io,
               count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS tx,
               count(*)::int AS sessions
        FROM pg_stat_activity WHERE datname = current_database() AND application_name = ${applicationName}`,
      ([row]) => row
    )
    const waitEvents = Effect.map(
      sql<{ event: string }>`
        SELECT wait_event_type || ':' || wait_event AS event FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = ${applicationName}
          AND state = 'active' AND wait_event IS NOT NULL`,
      (rows) => rows.map((row) => row.event)
    )
    const samples: Array<Sample> = []
    // every statement the bench itself runs on this database during the run: subtracted from the count
    let ownTransactions = 0
    const own = <A, E, R>(query: Effect.Effect<A, E, R>) => Effect.ensuring(query, Effect.sync(() => ownTransactions++))
    const sample = Effect.gen(function*() {
      const [stats, text, db, waits] = yield* Effect.all([sim.stats, metricsText, own(sessions), own(waitEvents)])
      samples.push({
        at: Date.now(),
        pending: stats.requests.pending,
        inFlight: ShopMetrics.metric(text, "lifecycle_pool_active_jobs", { pool: "carrier" }),
        queued: ShopMetrics.metric(text, "lifecycle_pool_queue_depth", { pool: "carrier" }),
        active: db.active,
        ioWait: db.io,
        inTransaction: db.tx,
        sessions: db.sessions,
        waits,
        transactions: db.xacts - ownTransactions
      })
    }).pipe(Effect.ignore)

    const { first, last } = yield* seedPacked(sql, count, "carrier")
    const t0 = Date.now()
    const snapshot = Effect.gen(function*() {
      const postgres = yield* backends(sql, applicationName)
      return {
        at: performance.now(),
        shop: schedOf([shop.pid]),
        sim: schedOf([sim.pid]),
        postgres: schedOf(postgres),
        machine: CpuUsage.machineTicks()
      }
    })
    const cpuBefore = yield* snapshot
    // how late an almost idle Node process on this machine gets its timers: the scheduling delay
    // that every hop of a booking (shop, simulator, PostgreSQL) pays on a busy machine
    const loopDelay = PerfHooks.monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    const sampler = yield* Effect.fork(Effect.repeat(sample, Schedule.spaced(Duration.millis(200))))

    const remaining = Effect.map(
      own(sql<{ n: number }>`SELECT count(*)::int AS n FROM orders
                             WHERE status = 'packed' AND id BETWEEN ${first} AND ${last}`),
      ([row]) => row.n
    )
    const progress: Array<{ readonly at: number; readonly done: number }> = []
    while (true) {
      const left = yield* remaining
      const now = Date.now()
      progress.push({ at: now, done: count - left })
      if (left === 0) break
      if (now - t0 > Duration.toMillis(options.carrierTimeout)) {
        const [state] = yield* sql<{ failed: number; errors: number }>`
          SELECT count(*) FILTER (WHERE carrier_failed)::int AS failed,
                 count(*) FILTER (WHERE carrier_last_error IS NOT NULL)::int AS errors
          FROM orders WHERE id BETWEEN ${first} AND ${last}`
        return yield* new BenchError({
          message: `carrier bookings: ${left} of ${count} orders still packed after ` +
            `${Duration.format(options.carrierTimeout)} (${state.failed} marked failed, ${state.errors} with an error)`
        })
      }
      yield* Effect.sleep(Duration.millis(25))
    }
    const elapsed = Duration.millis(Date.now() - t0)
    yield* Fiber.interrupt(sampler)
    const cpuAfter = yield* snapshot
    loopDelay.disable()
    // the histogram holds whole intervals: the resolution (10 ms) is subtracted
    const late = (p: number) => Math.max(0, loopDelay.percentile(p) / 1e6 - 10).toFixed(1)
    const benchDelay = `the bench's own 10 ms timer late by p50 ${late(50)} ms, p99 ${late(99)} ms`
    const perSecond = count / Math.max(Duration.toSeconds(elapsed), 0.001)

    // the steady state, without the ramp-up (the first L) and the tail (the last partial round)
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
    const pending = mean(window.map((s) => s.pending))
    const inFlight = mean(window.map((s) => s.inFlight))
    const queued = mean(window.map((s) => s.queued))
    const active = mean(window.map((s) => s.active))
    const ioWait = mean(window.map((s) => s.ioWait))
    const inTransaction = mean(window.map((s) => s.inTransaction))
    const busy = active + inTransaction
    const saturated = window.length === 0
      ? 0
      : window.filter((s) => s.active + s.inTransaction >= poolSize).length / window.length
    const sessionsMax = Math.max(0, ...window.map((s) => s.sessions))
    const steadyRate = Option.match(steady, { onNone: () => perSecond, onSome: (s) => s.perSecond })
    // Little's law over the worker: time per booking = in flight ÷ throughput; minus L is the rest
    const perBookingMs = steadyRate > 0 ? (1000 * inFlight) / steadyRate : 0
    const outsideMs = perBookingMs - latencyMs
    // the same law per stage: at the carrier (pending), holding a PostgreSQL session (busy), the rest
    const atCarrierMs = steadyRate > 0 ? (1000 * pending) / steadyRate : 0
    // PostgreSQL transactions per booking over the same window: a lease renewal and a persist each,
    // the rest is the dispatcher (one per idle tick, two per tick that claims)
    const firstSample = window[0]
    const lastSample = window[window.length - 1]
    const perBookingTx = firstSample !== undefined && lastSample !== undefined && lastSample.at > firstSample.at
      ? Option.some(
        (lastSample.transactions - firstSample.transactions) /
          ((steadyRate * (lastSample.at - firstSample.at)) / 1000)
      )
      : Option.none<number>()
    const waitCounts = new Map<string, number>()
    for (const s of window) for (const w of s.waits) waitCounts.set(w, (waitCounts.get(w) ?? 0) + 1)
    const topWaits = Array.from(waitCounts, ([event, c]) => `${event} ${oneDecimal(c / Math.max(window.length, 1))}`)
      .sort((a, b) => Number(b.split(" ")[1]) - Number(a.split(" ")[1]))
      .slice(0, 3)
      .join(", ")

    const wall = (cpuAfter.at - cpuBefore.at) / 1000
    const shopSched = schedDelta(cpuBefore.shop, cpuAfter.shop)
    const simSched = schedDelta(cpuBefore.sim, cpuAfter.sim)
    const pgSched = schedDelta(cpuBefore.postgres, cpuAfter.postgres)
    const cores = Os.cpus().length
    const share = (seconds: number) => `${((100 * seconds) / wall).toFixed(0)}%`
    const both = (what: string, sched: Sched) =>
      `${what} ${share(sched.run)} (+ ${share(sched.wait)} waiting for a CPU, ${
        sched.slices > 0 ? ((1000 * sched.wait) / sched.slices).toFixed(1) : "?"
      } ms per wake-up)`
    const machine = CpuUsage.machineShare(cpuBefore.machine, cpuAfter.machine, cores)
    const cpu = `${both("shop", shopSched)}, ${both("postgres", pgSched)}, ${both("carrier-sim", simSched)}, ` +
      Option.match(machine, {
        onNone: () => "whole machine n/a",
        onSome: (m) => `whole machine ${m.busy.toFixed(0)}% of ${100 * cores}% (steal ${m.steal.toFixed(0)}%)`
      })
    const shopCpuPerBooking = (1000 * shopSched.run) / count

    console.log(
      `carrier throughput: ${int(count)} bookings in ${ms(elapsed)} = ${oneDecimal(perSecond)}/s, ` +
        `${pct(perSecond / ideal)} of N/L = ${int(ideal)}/s; steady ${oneDecimal(steadyRate)}/s; ` +
        `mean pending at the carrier ${oneDecimal(pending)}, in flight ${oneDecimal(inFlight)}, queued ` +
        `${oneDecimal(queued)}; DB sessions busy ${oneDecimal(busy)} of ${poolSize} (active ${oneDecimal(active)}, ` +
        `idle in transaction ${oneDecimal(inTransaction)}); CPU ${cpu}`
    )

    // checks: one shipment per order at the carrier, each order shipped once by one attempt
    const stats = yield* sim.stats
    const ids = Array.from({ length: last - first + 1 }, (_, i) => first + i)
    if (stats.shipments !== count) failures.push(`carrier throughput: ${stats.shipments} shipments for ${count} orders`)
    failures.push(...checkOnePerKey(stats, ids).map((p) => `carrier throughput: ${p}`))
    if (stats.requests.failed > 0 || stats.requests.rejected > 0) {
      failures.push(`carrier throughput: ${stats.requests.failed} failed, ${stats.requests.rejected} rejected`)
    }
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
    const outcomes = bookingOutcomes(yield* metricsText)
    const stopped = yield* shop.terminate(Duration.seconds(30))
    if (stopped.code !== 0) failures.push(`shop-carrier exited with ${stopped.code ?? stopped.signal}`)
    yield* deleteOrders(sql, { first, last })

    const ratio = perSecond / ideal
    const verdict = ratio >= throughputTarget ? "meets" : "misses"
    const config = `N=CARRIER_CONCURRENCY=${n}, L=${ms(latency)} (simulator jitter 0, failures 0), ` +
      `${int(count)} packed orders committed at once, CARRIER_DISPATCH_INTERVAL=20 millis, ` +
      `DATABASE_POOL_SIZE=${poolSize}`
    const rows: Array<Row> = [
      {
        figure: `carrier bookings/s, N=${n}, L=${ms(latency)}`,
        value: `${oneDecimal(perSecond)}/s = ${pct(ratio)} of N/L = ${int(ideal)}/s (${int(count)} in ${
          ms(elapsed)
        }); ${verdict} the ≥ ${pct(throughputTarget)} target`,
        config: `${config}; clock from the seed's commit to the last order shipped (SQL, every 25 ms)`
      },
      {
        figure: "carrier bookings/s, steady state (10% → 90% shipped)",
        value: Option.match(steady, {
          onNone: () => "n/a",
          onSome: (s) => `${oneDecimal(s.perSecond)}/s = ${pct(s.perSecond / ideal)} of N/L`
        }),
        config: "without the ramp-up (the first L) and the last partial round"
      },
      {
        figure: "carrier pool during the steady state (means)",
        value: `pending at the carrier ${oneDecimal(pending)} of ${n}; in flight ${oneDecimal(inFlight)}, queued ${
          oneDecimal(queued)
        }; per booking ${oneDecimal(perBookingMs)} ms = L + ${oneDecimal(outsideMs)} ms: at the carrier ${
          oneDecimal(atCarrierMs)
        } ms (L + ${oneDecimal(atCarrierMs - latencyMs)}: the simulator's own delay), holding a PostgreSQL session ${
          oneDecimal((1000 * (active + inTransaction)) / steadyRate)
        } ms, the rest ${
          oneDecimal(perBookingMs - atCarrierMs - (1000 * (active + inTransaction)) / steadyRate)
        } ms (waiting for a pooled connection, HTTP in both processes, event-loop queueing)`,
        config: "simulator /v1/stats requests.pending and shop /metrics pool gauges every 200 ms; per booking = " +
          "in flight ÷ bookings/s (Little's law)"
      },
      {
        figure: "shop's PostgreSQL sessions during the steady state",
        value: `busy ${oneDecimal(busy)} of DATABASE_POOL_SIZE=${poolSize} (all busy in ${
          pct(saturated)
        } of samples): running a statement ${oneDecimal(active)} (waiting ${oneDecimal(ioWait)} on I/O or an LWLock: ${
          topWaits === "" ? "none" : topWaits
        }), idle in transaction ${oneDecimal(inTransaction)}; up to ${sessionsMax} open; ${
          oneDecimal((1000 * busy) / steadyRate)
        } ms of a connection per booking; ${
          Option.match(perBookingTx, {
            onNone: () => "transactions per booking n/a",
            onSome: (tx) =>
              `${tx.toFixed(1)} transactions per booking (the lease renewal, the persist, and the dispatcher's share)`
          })
        }`,
        config: "pg_stat_activity of the shop's application_name every 200 ms (state, wait_event_type)"
      },
      {
        figure: "CPU during the carrier throughput run",
        value: `${cpu}; shop ${shopCpuPerBooking.toFixed(2)} ms CPU per booking; ${benchDelay}`,
        config: "100% = one core; /proc/<pid>/task/*/schedstat (on a CPU, runnable but waiting); " +
          "postgres = the shop's backends"
      },
      {
        figure: "carrier throughput checks",
        value: `${int(stats.shipments)} shipments, ${
          checkOnePerKey(stats, ids).length === 0 ? "one per key" : "NOT one per key"
        }; carrier requests: ${stats.requests.booked} booked, ${stats.requests.replayed} replayed, ${stats.requests.failed} failed; ${db.retried} order(s) with more than one attempt; shop outcomes ${
          JSON.stringify(outcomes)
        }`,
        config: "simulator /v1/stats bookingsByKey, orders and order_events in SQL, shop_carrier_bookings_total"
      },
      {
        figure: "SIGTERM → exit, shop-carrier (idle)",
        value: `${ms(stopped.took)}, exit code ${stopped.code ?? `none (signal ${stopped.signal})`}`,
        config: "kill -TERM <pid> after the run"
      }
    ]
    return { rows, failures, perSecond, ideal }
  })).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `carrier throughput: ${cause.message}`, cause }))
  )

// ---------------------------------------------------------------------------------------------------
// 2. shutdown with N bookings in flight

/** Repeats `poll` every `every` until `done`; the poll's start and end times of the last miss and the first hit. */
const pollWindow = <A, E, R>(
  poll: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  every: Duration.DurationInput,
  bound: Duration.DurationInput,
  what: string,
  notBefore = 0
) =>
  Effect.gen(function*() {
    // nothing to see before `notBefore`: do not load the machine with polls in the meantime
    if (notBefore > Date.now()) yield* Effect.sleep(Duration.millis(notBefore - Date.now()))
    let lastMissStart = Date.now()
    while (true) {
      const start = Date.now()
      const value = yield* poll
      const end = Date.now()
      if (done(value)) return { value, after: lastMissStart, by: end }
      lastMissStart = start
      yield* Effect.sleep(every)
    }
  }).pipe(
    Effect.timeoutFail({
      duration: bound,
      onTimeout: () => new BenchError({ message: `still waiting after ${Duration.format(bound)}: ${what}` })
    })
  )

export const shutdown = (
  sql: PgClient.PgClient,
  options: CarrierOptions
): Effect.Effect<ShutdownOutcome, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const n = options.carrierConcurrency
    const latency = options.carrierShutdownLatency
    const latencyMs = Duration.toMillis(latency)
    const failures: Array<string> = []
    const name = "shop-carrier-sigterm"
    const logs: Array<LogLine> = []

    const sim = yield* CarrierSimProcess.start({
      name: "carrier-sim-sigterm",
      cwd: options.cwd,
      settings: {
        CARRIER_SIM_LATENCY: millis(latency),
        CARRIER_SIM_JITTER: "0 millis",
        CARRIER_SIM_FAILURE_RATE: "0",
        CARRIER_SIM_IN_TRANSIT_AFTER: "1 hour",
        CARRIER_SIM_DELIVERED_AFTER: "1 hour"
      }
    })
    const shop = yield* ShopProcess.start({
      name,
      cwd: options.cwd,
      env: {
        ...carrierShopEnv(options, sim.url, "bench-carrier-sigterm"),
        // its own shutdown log (timestamps to the millisecond) splits SIGTERM → exit
        LOG_FORMAT: "json",
        LOG_LEVEL: "Info",
        CARRIER_TIMEOUT: `${Math.max(10_000, 5 * latencyMs)} millis`,
        CARRIER_SHUTDOWN_TIMEOUT: `${Math.max(20_000, 3 * latencyMs)} millis`,
        SHUTDOWN_TIMEOUT: `${Math.max(25_000, 4 * latencyMs)} millis`
      },
      readyTimeout: options.readyTimeout,
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
    })
    const gauges = Effect.map(ShopMetrics.scrape(shop.baseUrl), (body) => ({
      inFlight: ShopMetrics.metric(body, "lifecycle_pool_active_jobs", { pool: "carrier" }),
      queued: ShopMetrics.metric(body, "lifecycle_pool_queue_depth", { pool: "carrier" })
    }))

    // 2·N: the dispatcher claims up to 2·N, so N wait out the latency and N wait in the pool's queue
    const { first, last } = yield* seedPacked(sql, 2 * n, "sigterm")
    console.log(`carrier SIGTERM: ${2 * n} packed orders, N=${n}, L=${ms(latency)}; waiting for ${n} in flight…`)
    const seededAt = Date.now()
    const bound = Duration.seconds(Math.max(10, (2 * latencyMs) / 1000))
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

    // From here on nothing touches the shop: the simulator and SQL are polled from the side, and only
    // from 100 ms before the last of the N bookings can be answered at the earliest (it arrived after
    // the last poll that saw fewer than N pending, and takes exactly L).
    const notBefore = loaded.after + latencyMs - 100
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
                           WHERE status = 'shipped' AND id BETWEEN ${first} AND ${last}`,
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
    const sig = stopped.signalledAt
    const answered = yield* Fiber.join(carrierDone)
    const stored = yield* Fiber.join(persisted).pipe(
      Effect.timeout(Duration.seconds(2)),
      Effect.option
    )

    // the slowest in-flight booking, as the carrier saw it: the midpoint of the polls around `pending` → 0
    const slowest = (answered.after + answered.by) / 2 - sig
    const slowestHalfWidth = (answered.by - answered.after) / 2
    // the same from the arrivals: the last of the N arrived between two polls, and takes exactly L
    const fromArrival = [loaded.after + latencyMs - sig, loaded.by + latencyMs - sig]
    const took = Duration.toMillis(stopped.took)
    const allowed = slowest + shutdownAllowanceMs
    const overhead = took - slowest
    const verdict = took <= allowed ? "meets" : "misses"

    const find = (pattern: RegExp) => Option.fromNullable(logs.find((line) => pattern.test(line.message)))
    const rel = (o: Option.Option<LogLine>) => Option.map(o, (line) => line.at - sig)
    const fmt = (o: Option.Option<number>) =>
      Option.match(o, { onNone: () => "n/a", onSome: (v) => `+${Math.round(v)}` })
    const received = rel(find(/^shutdown: SIGTERM received/))
    const released = find(/^pool carrier: released \d+ queued/)
    const poolDone = rel(find(/^shutdown: pool carrier done in/))
    const dbClose = rel(find(/^shutdown: closing the database pool/))
    const complete = rel(find(/^shutdown (complete|finished with errors) in/))
    const lastStored = Option.map(stored, (s) => (s.after + s.by) / 2 - sig)
    // CPU of the shop: SIGTERM → exit, and from the last carrier answer → exit
    const cpuFrom = (at: number) => {
      const start = shopCpu.filter((c) => c.at <= at).at(-1) ?? shopCpu[0]
      const end = shopCpu.at(-1)
      return start === undefined || end === undefined
        ? "n/a"
        : `${Math.round(1000 * (end.run - start.run))} ms on a CPU + ${
          Math.round(1000 * (end.wait - start.wait))
        } ms waiting for one`
    }
    const shutdownCpu = `SIGTERM → exit ${cpuFrom(sig)}; last carrier answer → exit ${
      cpuFrom(sig + slowest)
    } (schedstat every 5 ms)`

    const timeline = `signal handled ${fmt(received)}, ${
      Option.match(released, {
        onNone: () => "no queued jobs released",
        onSome: (l) => `${l.message} at +${l.at - sig}`
      })
    }, last carrier answer +${Math.round(slowest)} (±${Math.round(slowestHalfWidth)}), last booking committed ${
      fmt(lastStored)
    } (SQL, every 5 ms), pool carrier done ${fmt(poolDone)}, database pool closing ${fmt(dbClose)}, shutdown complete ${
      fmt(complete)
    }, exit +${took} ms`
    console.log(`carrier SIGTERM: the shop's CPU: ${shutdownCpu}`)
    console.log(
      `carrier SIGTERM: N=${n} in flight (L=${ms(latency)}; all ${n} pending ${
        loaded.by - seededAt
      } ms after the seed); ` +
        `SIGTERM → exit ${took} ms; slowest in-flight booking answered +${Math.round(slowest)} ms ` +
        `(from the arrivals: +${Math.round(fromArrival[0])}…+${Math.round(fromArrival[1])} ms); ${timeline}`
    )

    // checks: the N in flight shipped and persisted, the N queued released untouched, one shipment per key
    if (stopped.code !== 0) failures.push(`${name} exited with ${stopped.code ?? stopped.signal}`)
    // (the bench's client does not transform column names: lower-case aliases)
    const rows = yield* sql<{ id: string; status: string; leased: boolean; attempts: number }>`
      SELECT id::text AS id, status, lease_owner IS NOT NULL AS leased, carrier_attempts AS attempts
      FROM orders WHERE id BETWEEN ${first} AND ${last} ORDER BY id`
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
    yield* deleteOrders(sql, { first, last })

    const config =
      `N=${n} bookings in flight and ${n} queued, L=${ms(latency)} (jitter 0), CARRIER_DISPATCH_INTERVAL=` +
      `20 millis; SIGTERM once the simulator holds ${n} pending (polled every 5 ms)`
    return {
      rows: [
        {
          figure: `SIGTERM → exit with N=${n} bookings in flight`,
          value: `${took} ms vs slowest in-flight booking + ${shutdownAllowanceMs} ms = ${
            Math.round(allowed)
          } ms: ${verdict} the target (overhead ${Math.round(overhead)} ms), exit code ${
            stopped.code ?? `none (signal ${stopped.signal})`
          }`,
          config: `${config}; slowest = the carrier's last answer (its requests.pending reaching 0, polled every 5 ms)`
        },
        {
          figure: "  slowest in-flight booking, after SIGTERM",
          value: `+${Math.round(slowest)} ms (±${Math.round(slowestHalfWidth)}); from the arrivals + L: +${
            Math.round(fromArrival[0])
          }…+${Math.round(fromArrival[1])} ms`,
          config: `the ${n} arrived at the carrier over ${loaded.by - seededAt} ms after the seed's commit`
        },
        {
          figure: "  SIGTERM → exit, step by step (ms after SIGTERM)",
          value: timeline,
          config: "the shop's JSON log (LOG_LEVEL=Info) and SQL polled every 5 ms"
        },
        {
          figure: "  the shop's CPU during that shutdown",
          value: shutdownCpu,
          config: "/proc/<pid>/schedstat of the shop's main thread (the event loop)"
        },
        {
          figure: "  after the exit",
          value:
            `${shipped.length} shipped, ${packed.length} packed (${leased} still leased, ${attempted} of them sent to the carrier); ` +
            `${stats.shipments} shipments at the carrier, ${
              problems.length === 0 ? "one per key" : problems.join("; ")
            }`,
          config: "orders in SQL, simulator /v1/stats"
        }
      ],
      failures,
      tookMs: took,
      allowedMs: allowed
    }
  })).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `carrier SIGTERM: ${cause.message}`, cause }))
  )

/** Both carrier runs, one after the other (each with its own simulator and shop). */
export const phase = (sql: PgClient.PgClient, options: CarrierOptions): Effect.Effect<Outcome, BenchError> =>
  Effect.gen(function*() {
    const first = yield* throughput(sql, options)
    const second = yield* shutdown(sql, options)
    return { rows: [...first.rows, ...second.rows], failures: [...first.failures, ...second.failures] }
  })
