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
import * as ShopMetrics from "./ShopMetrics.js"
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
 * N orders in `status` (default `paid`) with 1–3 lines each (500 cents per line) in one transaction;
 * returns their id range. `ANALYZE` inside the transaction counts its own new rows, so the planner
 * knows, deterministically, how many orders are waiting when the worker first sees them (as autovacuum
 * would, eventually).
 */
export const seedOrders = (sql: PgClient.PgClient, count: number, status: "paid" | "pending" = "paid") =>
  sql.withTransaction(Effect.zipLeft(
    sql<{ first: string; last: string }>`
      WITH o AS (
        INSERT INTO orders (email, status, total_cents)
        SELECT 'fulfil' || g || '@bench.example', ${status}, 500 * (1 + g % 3)
        FROM generate_series(1, ${count}) AS g
        RETURNING id, total_cents
      ), lines AS (
        INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
        SELECT o.id, l, 'BENCH-' || l, 1, 500 FROM o, generate_series(1, (o.total_cents / 500)::int) AS l
      )
      SELECT min(id)::text AS first, max(id)::text AS last FROM o`,
    sql`ANALYZE orders`
  )).pipe(Effect.map(([row]) => ({ first: Number(row.first), last: Number(row.last) })))

/** {@link seedOrders} of `paid` orders: what the fulfillment worker picks up. */
export const seedPaid = (sql: PgClient.PgClient, count: number) => seedOrders(sql, count, "paid")

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
  /**
   * Shop processes on the database, all with the same batch (default 1). Replicas need no leader: each
   * tick claims with `FOR UPDATE SKIP LOCKED`, so they take disjoint orders.
   */
  readonly replicas?: number | undefined
}

export interface PhaseOutcome {
  readonly rows: ReadonlyArray<Row>
  readonly failures: ReadonlyArray<string>
  readonly result: FulfillmentResult
  /** Transitions each replica made (its `shop_fulfillment_transitions_total`), in start order; empty if unread. */
  readonly perReplica: ReadonlyArray<number>
}

/**
 * `replicas` more shop processes with `FULFILLMENT_BATCH=batch` on the same database, one {@link run}
 * (the clock from the seed's commit until none is paid or picking, every order packed exactly once),
 * then SIGTERM → exit of each of those shops (idle by then).
 */
export const phase = (
  sql: PgClient.PgClient,
  options: PhaseOptions
): Effect.Effect<PhaseOutcome, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const replicas = options.replicas ?? 1
    const label = `FULFILLMENT_BATCH=${options.batch}${replicas > 1 ? `, ${replicas} replicas` : ""}`
    const interval = `${Duration.toMillis(options.interval)} millis`
    const names = Array.from(
      { length: replicas },
      (_, i) => `shop-batch-${options.batch}${replicas > 1 ? `-r${i + 1}` : ""}`
    )
    const shops = yield* Effect.forEach(names, (name) =>
      ShopProcess.start({
        name,
        cwd: options.cwd,
        env: { ...options.env, FULFILLMENT_BATCH: String(options.batch), FULFILLMENT_INTERVAL: interval },
        readyTimeout: options.readyTimeout
      }), { concurrency: "unbounded" })
    console.log(`fulfillment, ${label}: ${int(options.orders)} paid orders…`)
    const result = yield* run(sql, options)
    // who did what: cheap, and only a detail (a failed scrape leaves it out)
    const perReplica = yield* Effect.forEach(
      shops,
      (shop) =>
        Effect.map(ShopMetrics.scrape(shop.baseUrl), (text) =>
          ShopMetrics.metric(text, "shop_fulfillment_transitions_total"))
    ).pipe(Effect.orElseSucceed((): ReadonlyArray<number> => []))
    const split = replicas > 1 && perReplica.length === replicas
      ? `; per replica ${
        perReplica.map((n) => `${int(n)} (${((100 * n) / result.transitions).toFixed(0)}%)`).join(" / ")
      }`
      : ""
    console.log(
      `fulfillment, ${label}: ${int(result.transitions)} transitions in ` +
        `${ms(result.elapsed)} = ${int(result.transitionsPerSecond)}/s (the insert took ${ms(result.seeded)})${split}`
    )
    const stopped = yield* Effect.forEach(shops, (shop) =>
      shop.terminate(Duration.seconds(30)))
    return {
      rows: [
        {
          figure: `fulfillment transitions/s, ${label}`,
          value: `${int(result.transitionsPerSecond)} (${int(result.transitions)} in ${ms(result.elapsed)})${split}`,
          config: `${int(options.orders)} paid orders in one INSERT, FULFILLMENT_INTERVAL=${interval}, ` +
            (replicas > 1 ? `${replicas} more shop processes` : "a second shop process")
        },
        ...stopped.map((exit, i) => shutdownRow(`SIGTERM → exit, ${names[i]}`, exit))
      ],
      failures: stopped.flatMap((exit, i) =>
        exit.code === 0 ? [] : [`${names[i]} exited with ${exit.code ?? exit.signal}`]
      ),
      result,
      perReplica
    }
  }))
