/**
 * What both carrier runs set up and check: the simulator's settings, the shop's environment, packed
 * orders seeded and deleted, one booking per key, and a bounded poll that says when a state was reached.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { BenchError } from "../BenchError.js"
import * as CarrierSimProcess from "../CarrierSimProcess.js"
import * as ShopProcess from "../ShopProcess.js"
import type { CarrierOptions } from "./Options.js"

export const millis = (d: Duration.Duration) => `${Duration.toMillis(d)} millis`

/** The shop's database URL with an `application_name`, so that its sessions can be told from ours. */
export const withApplicationName = (url: Redacted.Redacted, name: string): string => {
  const parsed = new URL(Redacted.value(url))
  parsed.searchParams.set("application_name", name)
  return parsed.toString()
}

/** The simulator of both runs: latency L, jitter 0, no failures, tracking events an hour away (an idle feed). */
export const simSettings = (latency: Duration.Duration) => ({
  CARRIER_SIM_LATENCY: millis(latency),
  CARRIER_SIM_JITTER: "0 millis",
  CARRIER_SIM_FAILURE_RATE: "0",
  CARRIER_SIM_IN_TRANSIT_AFTER: "1 hour",
  CARRIER_SIM_DELIVERED_AFTER: "1 hour"
})

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

export const deleteOrders = (sql: PgClient.PgClient, range: { readonly first: number; readonly last: number }) =>
  sql.withTransaction(Effect.zipRight(
    sql`DELETE FROM order_events WHERE order_id BETWEEN ${range.first} AND ${range.last}`,
    sql`DELETE FROM orders WHERE id BETWEEN ${range.first} AND ${range.last}`
  ))

/** Every key booked exactly once, and the keys are exactly `order-<id>` of `ids`. */
export const checkOnePerKey = (stats: CarrierSimProcess.Stats, ids: ReadonlyArray<number>): Array<string> => {
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

/**
 * The standalone simulator answering after `latency`, then the shop booking through it with a
 * `CARRIER_TIMEOUT` well past the latency; `env` adds to (or overrides) the shop's environment.
 */
export const startSimAndShop = (options: CarrierOptions, run: {
  readonly latency: Duration.Duration
  readonly simName: string
  readonly shopName: string
  readonly applicationName: string
  readonly env?: Readonly<Record<string, string>>
  readonly output?: Pick<ShopProcess.StartOptions, "echo" | "onLine">
}) =>
  Effect.gen(function*() {
    const sim = yield* CarrierSimProcess.start({
      name: run.simName,
      cwd: options.cwd,
      settings: simSettings(run.latency)
    })
    const shop = yield* ShopProcess.start({
      name: run.shopName,
      cwd: options.cwd,
      env: {
        ...carrierShopEnv(options, sim.url, run.applicationName),
        CARRIER_TIMEOUT: `${Math.max(10_000, 5 * Duration.toMillis(run.latency))} millis`,
        ...run.env
      },
      readyTimeout: options.readyTimeout,
      ...run.output
    })
    return { sim, shop }
  })

export const carrierShopEnv = (options: CarrierOptions, simUrl: string, applicationName: string) => ({
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
export const backends = (sql: PgClient.PgClient, applicationName: string) =>
  Effect.map(
    sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
                         WHERE datname = current_database() AND application_name = ${applicationName}`,
    (rows) => rows.map((row) => Number(row.pid))
  )

/** Repeats `poll` every `every` until `done`; the poll's start and end times of the last miss and the first hit. */
export const pollWindow = <A, E, R>(
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
