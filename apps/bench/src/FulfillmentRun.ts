/**
 * Fulfillment throughput: with a shop already running (its worker idle), commit N `paid` orders in one
 * statement, then time until every one of them is `packed`, i.e. 2·N transitions (paid → picking → packed).
 * The clock starts when the insert commits: the moment the worker can first see the rows. `--history`
 * puts finished orders in front of them, as a long-lived shop has.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { BenchError } from "./BenchError.js"
import { int, ms, type Row, shutdownRow } from "./Report.js"
import * as ShopProcess from "./ShopProcess.js"

export interface FulfillmentResult {
  readonly orders: number
  readonly transitions: number
  readonly elapsed: Duration.Duration
  readonly transitionsPerSecond: number
  /** How long the one-statement insert of the orders and their lines took. */
  readonly seeded: Duration.Duration
}

/**
 * N paid orders with 1–3 lines each (500 cents per line) in one transaction; returns their id range.
 * `ANALYZE` inside the transaction counts its own new rows, so the planner knows, deterministically,
 * how many orders are waiting when the worker first sees them (as autovacuum would, eventually).
 */
export const seedPaid = (sql: PgClient.PgClient, count: number) =>
  sql.withTransaction(Effect.zipLeft(
    sql<{ first: string; last: string }>`
      WITH o AS (
        INSERT INTO orders (email, status, total_cents)
        SELECT 'fulfil' || g || '@bench.example', 'paid', 500 * (1 + g % 3)
        FROM generate_series(1, ${count}) AS g
        RETURNING id, total_cents
      ), lines AS (
        INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
        SELECT o.id, l, 'BENCH-' || l, 1, 500 FROM o, generate_series(1, (o.total_cents / 500)::int) AS l
      )
      SELECT min(id)::text AS first, max(id)::text AS last FROM o`,
    sql`ANALYZE orders`
  )).pipe(Effect.map(([row]) => ({ first: Number(row.first), last: Number(row.last) })))

/**
 * N `delivered` orders (no lines), in one statement: the finished orders a long-lived shop has, all
 * with ids below the paid orders inserted after them.
 */
export const seedHistory = (sql: PgClient.PgClient, count: number) =>
  sql`INSERT INTO orders (email, status, total_cents)
      SELECT 'history' || g || '@bench.example', 'delivered', 500 FROM generate_series(1, ${count}) AS g`.pipe(
    Effect.asVoid
  )

export const run = (
  sql: PgClient.PgClient,
  options: { readonly orders: number; readonly timeout: Duration.DurationInput }
): Effect.Effect<FulfillmentResult, BenchError> =>
  Effect.gen(function*() {
    const insertStart = Date.now()
    const { first, last } = yield* seedPaid(sql, options.orders)
    const t0 = Date.now()
    const remaining = Effect.map(
      sql<{ n: string }>`SELECT count(*)::text AS n FROM orders
                         WHERE id BETWEEN ${first} AND ${last} AND status IN ('paid', 'picking')`,
      ([row]) => Number(row.n)
    )
    while ((yield* remaining) > 0) {
      if (Date.now() - t0 > Duration.toMillis(options.timeout)) {
        return yield* new BenchError({
          message: `fulfillment did not finish ${options.orders} orders within ${Duration.format(options.timeout)}`
        })
      }
      yield* Effect.sleep(Duration.millis(20))
    }
    const elapsed = Duration.millis(Date.now() - t0)

    // every order at least packed (a carrier may ship it afterwards), and exactly one picking and one
    // packed event each: nothing skipped, nothing done twice
    const [check] = yield* sql<{ packed: string; shipped: string; events: string }>`
      SELECT (SELECT count(*) FROM orders WHERE id BETWEEN ${first} AND ${last}
                AND status IN ('packed', 'shipped', 'delivered'))::text AS packed,
             (SELECT count(*) FROM orders WHERE id BETWEEN ${first} AND ${last}
                AND status IN ('shipped', 'delivered'))::text AS shipped,
             (SELECT count(*) FROM order_events WHERE order_id BETWEEN ${first} AND ${last}
                AND to_status IN ('picking', 'packed'))::text AS events`
    if (Number(check.packed) !== options.orders || Number(check.events) !== 2 * options.orders) {
      return yield* new BenchError({
        message: `expected ${options.orders} packed orders and ${2 * options.orders} events, ` +
          `found ${check.packed} and ${check.events}`
      })
    }
    if (Number(check.shipped) > 0) {
      console.warn(`${check.shipped} of these orders were already shipped: a carrier dispatcher was not parked`)
    }
    // Gone before the next shop starts: its carrier dispatcher would otherwise find them packed at its
    // first tick and book them during the next measurement. Every run also sees the same history.
    yield* sql.withTransaction(Effect.zipRight(
      sql`DELETE FROM order_events WHERE order_id BETWEEN ${first} AND ${last}`,
      sql`DELETE FROM orders WHERE id BETWEEN ${first} AND ${last}`
    ))
    const transitions = 2 * options.orders
    return {
      orders: options.orders,
      transitions,
      elapsed,
      transitionsPerSecond: transitions / Math.max(Duration.toSeconds(elapsed), 0.001),
      seeded: Duration.millis(t0 - insertStart)
    }
  }).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `fulfillment run: ${cause.message}`, cause }))
  )

export interface PhaseOptions {
  readonly batch: number
  readonly orders: number
  readonly interval: Duration.Duration
  readonly timeout: Duration.Duration
  readonly readyTimeout: Duration.Duration
  /** The shop's environment, `DATABASE_URL` included. */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
}

/**
 * One more shop process with `FULFILLMENT_BATCH=batch` on the same database, one {@link run}, then
 * SIGTERM → exit of that shop (idle by then).
 */
export const phase = (
  sql: PgClient.PgClient,
  options: PhaseOptions
): Effect.Effect<{ readonly rows: ReadonlyArray<Row>; readonly failures: ReadonlyArray<string> }, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const name = `shop-batch-${options.batch}`
    const interval = `${Duration.toMillis(options.interval)} millis`
    const shop = yield* ShopProcess.start({
      name,
      cwd: options.cwd,
      env: { ...options.env, FULFILLMENT_BATCH: String(options.batch), FULFILLMENT_INTERVAL: interval },
      readyTimeout: options.readyTimeout
    })
    console.log(`fulfillment, FULFILLMENT_BATCH=${options.batch}: ${int(options.orders)} paid orders…`)
    const result = yield* run(sql, options)
    console.log(
      `fulfillment, FULFILLMENT_BATCH=${options.batch}: ${int(result.transitions)} transitions in ` +
        `${ms(result.elapsed)} = ${int(result.transitionsPerSecond)}/s (the insert took ${ms(result.seeded)})`
    )
    const stopped = yield* shop.terminate(Duration.seconds(30))
    return {
      rows: [
        {
          figure: `fulfillment transitions/s, FULFILLMENT_BATCH=${options.batch}`,
          value: `${int(result.transitionsPerSecond)} (${int(result.transitions)} in ${ms(result.elapsed)})`,
          config: `${int(options.orders)} paid orders in one INSERT, FULFILLMENT_INTERVAL=${interval}, ` +
            `a second shop process`
        },
        shutdownRow(`SIGTERM → exit, ${name}`, stopped)
      ],
      failures: stopped.code === 0 ? [] : [`${name} exited with ${stopped.code ?? stopped.signal}`]
    }
  }))
