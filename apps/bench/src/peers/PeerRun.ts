/**
 * What the peers of the fulfillment worker share: a fresh database with the shop's schema, the wait
 * for the seeded orders to be packed, the check that each was moved exactly once per step, and the
 * figures they return. The clock is FulfillmentRun's: from the commit of the seed until no seeded
 * order is `paid` or `picking`, polled every 20 ms.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Migrations from "@shop/database/Migrations"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as BenchDatabase from "../BenchDatabase.js"
import { BenchError } from "../BenchError.js"
import * as FulfillmentRun from "../FulfillmentRun.js"

export interface PeerResult {
  readonly peer: string
  /** Orders seeded (all `paid`). */
  readonly orders: number
  /** Transitions made and checked. */
  readonly transitions: number
  readonly seconds: number
  readonly transitionsPerSecond: number
  /** How the peer ran, for the report. */
  readonly config: string
}

export interface PeerDatabase {
  readonly name: string
  readonly url: Redacted.Redacted
  /** A small pool of our own on it, for seeding and checking. */
  readonly sql: PgClient.PgClient
}

/** Ids `first..last` of the seeded orders, as `FulfillmentRun.seedPaid` returns them. */
export interface Range {
  readonly first: number
  readonly last: number
}

const withDatabase = (adminUrl: Redacted.Redacted, database: string) => {
  const url = new URL(Redacted.value(adminUrl))
  url.pathname = `/${encodeURIComponent(database)}`
  return Redacted.make(url.toString())
}

/**
 * `peers_<label>_<random>` on the server of `adminUrl` with the shop's migrations applied, dropped
 * `WITH (FORCE)` when the scope closes (after our pool, and whatever the peer left connected). Not
 * `BenchDatabase.acquire`: it falls back to an embedded server only a shop process can start.
 */
export const freshDatabase = (
  adminUrl: Redacted.Redacted,
  label: string,
  maxConnections = 3
): Effect.Effect<PeerDatabase, BenchError, Scope.Scope> =>
  Effect.gen(function*() {
    const admin = yield* BenchDatabase.connect(adminUrl, 1)
    const name = `peers_${label}_${Crypto.randomBytes(5).toString("hex")}`
    yield* Effect.acquireRelease(
      admin`CREATE DATABASE ${admin(name)}`,
      () =>
        admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`.pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(`could not drop database ${name}`, cause))
        )
    )
    const url = withDatabase(adminUrl, name)
    const sql = yield* BenchDatabase.connect(url, maxConnections)
    yield* Migrations.run.pipe(
      Effect.provideService(SqlClient.SqlClient, sql),
      Effect.provideService(PgClient.PgClient, sql)
    )
    return { name, url, sql }
  }).pipe(Effect.mapError((cause) =>
    cause instanceof BenchError ? cause : new BenchError({ message: `peer database: ${cause.message}`, cause })
  ))

/**
 * `FulfillmentRun.seedPaid` (N paid orders with their lines, `ANALYZE`) and then `enqueue` — the
 * peer's jobs for those orders — in one transaction: orders and jobs become visible at the same
 * commit, as the shop's worker sees its orders, and the clock starts when this returns.
 */
export const seed = <E, R>(
  sql: PgClient.PgClient,
  orders: number,
  enqueue: (range: Range) => Effect.Effect<unknown, E, R>
) =>
  sql.withTransaction(Effect.gen(function*() {
    const range = yield* FulfillmentRun.seedPaid(sql, orders)
    // the checks work on id ranges: a sequence shared with a concurrent insert would break them
    if (range.last - range.first + 1 !== orders) {
      return yield* new BenchError({ message: `seeded ids ${range.first}..${range.last} are not ${orders} in a row` })
    }
    yield* enqueue(range)
    return range
  }))

/** Waits until none of the orders is `paid` or `picking`; fails past `timeout` (counted from now). */
export const awaitPacked = (
  sql: PgClient.PgClient,
  range: Range,
  timeout: Duration.DurationInput
): Effect.Effect<void, BenchError> =>
  Effect.gen(function*() {
    const start = Date.now()
    const remaining = Effect.map(
      sql<{ n: string }>`SELECT count(*)::text AS n FROM orders
                         WHERE id BETWEEN ${range.first} AND ${range.last} AND status IN ('paid', 'picking')`,
      ([row]) => Number(row.n)
    )
    let left = yield* remaining
    while (left > 0) {
      if (Date.now() - start > Duration.toMillis(timeout)) {
        return yield* new BenchError({
          message: `${left} orders still paid or picking after ${Duration.format(timeout)}`
        })
      }
      yield* Effect.sleep(Duration.millis(20))
      left = yield* remaining
    }
  }).pipe(Effect.catchTag("SqlError", (cause) => new BenchError({ message: `waiting: ${cause.message}`, cause })))

/** Orders of the range by status, and their events by `to_status` (both as counts). */
export const tally = (sql: PgClient.PgClient, range: Range) =>
  Effect.map(
    sql<{ kind: string; status: string; n: string }>`
      SELECT 'order' AS kind, status, count(*)::text AS n FROM orders
      WHERE id BETWEEN ${range.first} AND ${range.last} GROUP BY status
      UNION ALL
      SELECT 'event', to_status, count(*)::text FROM order_events
      WHERE order_id BETWEEN ${range.first} AND ${range.last} GROUP BY to_status
      UNION ALL
      -- the unique key (order_id, to_status) forbids these; counted rather than trusted
      SELECT 'duplicate', to_status, count(*)::text FROM (
        SELECT to_status FROM order_events WHERE order_id BETWEEN ${range.first} AND ${range.last}
        GROUP BY order_id, to_status HAVING count(*) > 1
      ) d GROUP BY to_status`,
    (rows) => {
      const count = (kind: string, status: string) =>
        Number(rows.find((row) => row.kind === kind && row.status === status)?.n ?? 0)
      return {
        orders: (status: string) => count("order", status),
        events: (status: string) => count("event", status),
        allEvents: rows.filter((row) => row.kind === "event").reduce((n, row) => n + Number(row.n), 0),
        duplicates: rows.filter((row) => row.kind === "duplicate").reduce((n, row) => n + Number(row.n), 0),
        describe: rows.map((row) => `${row.kind} ${row.status}: ${row.n}`).join(", ")
      }
    }
  )

/**
 * Every order of the range packed, with exactly one `picking` and one `packed` event each and no
 * other event: nothing skipped, nothing done twice (FulfillmentRun's check, per status).
 */
export const verifyPacked = (sql: PgClient.PgClient, range: Range): Effect.Effect<void, BenchError> =>
  Effect.gen(function*() {
    const orders = range.last - range.first + 1
    const t = yield* tally(sql, range)
    const ok = t.orders("packed") === orders && t.events("picking") === orders && t.events("packed") === orders &&
      t.allEvents === 2 * orders && t.duplicates === 0
    if (!ok) {
      return yield* new BenchError({
        message: `expected ${orders} packed orders with one picking and one packed event each; found ${t.describe}`
      })
    }
  }).pipe(Effect.catchTag("SqlError", (cause) => new BenchError({ message: `check: ${cause.message}`, cause })))

/**
 * The measured part of a job-queue run, from just after the seed's commit: until every order of `range`
 * is packed (or `failed`, the peer's first failed job, ends the run), then the check. The elapsed ms.
 */
export const timeUntilPacked = (
  sql: PgClient.PgClient,
  range: Range,
  timeout: Duration.DurationInput,
  failed: Effect.Effect<never, BenchError>
): Effect.Effect<number, BenchError> =>
  Effect.gen(function*() {
    const t0 = Date.now()
    yield* Effect.raceFirst(awaitPacked(sql, range, timeout), failed)
    const elapsed = Date.now() - t0
    yield* verifyPacked(sql, range)
    return elapsed
  })

export const result = (
  fields: Omit<PeerResult, "transitionsPerSecond" | "seconds">,
  elapsedMs: number
): PeerResult => ({
  ...fields,
  seconds: elapsedMs / 1000,
  transitionsPerSecond: fields.transitions / Math.max(elapsedMs / 1000, 0.001)
})
