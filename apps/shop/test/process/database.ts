/**
 * A fresh database per test, a client for the test itself, and the database-side handshakes:
 * "the child is waiting on a lock" is read from `pg_stat_activity` / `pg_locks`, never guessed.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Database, Migrations } from "@shop/database"
import { TestDatabase } from "@shop/database/testing"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

export interface TestDb {
  readonly sql: SqlClient.SqlClient
  /** The database URL for a child, tagged with `application_name` so its sessions can be found. */
  readonly urlFor: (applicationName: string) => string
}

/** A new database (dropped `WITH (FORCE)` with the scope) and a small pool on it, optionally migrated. */
export const freshDatabase = (options: { readonly migrate: boolean }) =>
  Effect.gen(function*() {
    const url = yield* TestDatabase.create(yield* TestDatabase.adminUrl)
    const context = yield* Layer.build(Database.layerFromUrl({
      url,
      poolSize: 4,
      connectTimeout: Duration.seconds(5),
      idleTimeout: Duration.seconds(10)
    }))
    if (options.migrate) yield* Effect.provide(Migrations.run, context)
    const db: TestDb = {
      sql: Context.get(context, SqlClient.SqlClient),
      urlFor: (applicationName) => {
        const tagged = new URL(Redacted.value(url))
        tagged.searchParams.set("application_name", applicationName)
        return tagged.toString()
      }
    }
    return db
  })

export class StillWaiting extends Data.TaggedError("StillWaiting")<{ readonly message: string }> {}

/** Re-runs `query` every 25 ms until `done` holds; fails naming `what` after `bound`. */
export const pollUntil = <A, E, R>(
  what: string,
  query: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  bound: Duration.DurationInput = "10 seconds"
): Effect.Effect<A, E | StillWaiting, R> => {
  const loop: Effect.Effect<A, E, R> = Effect.flatMap(
    query,
    (a) => done(a) ? Effect.succeed(a) : Effect.zipRight(Effect.sleep("25 millis"), Effect.suspend(() => loop))
  )
  return loop.pipe(
    Effect.timeoutFail({
      duration: bound,
      onTimeout: () => new StillWaiting({ message: `still waiting after ${Duration.format(bound)}: ${what}` })
    })
  )
}

/** Sessions of `applicationName` in this database that wait for a heavyweight lock (row or table). */
export const sessionsWaitingOnLock = (sql: SqlClient.SqlClient, applicationName: string) =>
  Effect.map(
    sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ${applicationName} AND wait_event_type = 'Lock'`,
    ([row]) => row.n
  )

/** Not-granted locks on `table` in this database held by sessions of `applicationName`. */
export const waitingOnTable = (sql: SqlClient.SqlClient, table: string, applicationName: string) =>
  Effect.map(
    sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE NOT l.granted AND l.relation = ${table}::regclass
        AND a.datname = current_database() AND a.application_name = ${applicationName}`,
    ([row]) => row.n
  )

/**
 * Runs `statement` in a transaction of the test's own and keeps it open (holding its locks) until
 * the returned `release` runs, which commits and waits for the commit.
 */
export const holdLock = (sql: SqlClient.SqlClient, statement: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    const locked = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const fiber = yield* sql.withTransaction(
      statement.pipe(Effect.zipRight(Deferred.succeed(locked, undefined)), Effect.zipRight(Deferred.await(release)))
    ).pipe(Effect.orDie, Effect.fork)
    yield* Deferred.await(locked)
    return { release: Deferred.succeed(release, undefined).pipe(Effect.zipRight(fiber.await), Effect.asVoid) }
  })

/** Inserts `n` paid orders (one item each, with their pending→paid event) in one transaction; returns their ids. */
export const insertPaidOrders = (sql: SqlClient.SqlClient, n: number) =>
  Effect.map(
    sql<{ orderId: string }>`
      WITH o AS (
        INSERT INTO orders (email, status, total_cents)
        SELECT 'buyer' || g || '@example.com', 'paid', 1250 FROM generate_series(1, ${n}) g
        RETURNING id
      ), i AS (
        INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
        SELECT id, 1, 'SKU-1', 1, 1250 FROM o
      )
      INSERT INTO order_events (order_id, from_status, to_status) SELECT id, 'pending', 'paid' FROM o
      RETURNING order_id`,
    (rows) => rows.map((row) => Number(row.orderId))
  )

/**
 * Inserts `n` orders already `packed` (one item each, with their pending→paid→picking→packed
 * events) in one transaction, so the carrier bookings start without the fulfillment worker; returns their ids.
 */
export const insertPackedOrders = (sql: SqlClient.SqlClient, n: number) =>
  Effect.map(
    sql<{ id: string }>`
      WITH o AS (
        INSERT INTO orders (email, status, total_cents)
        SELECT 'buyer' || g || '@example.com', 'packed', 1250 FROM generate_series(1, ${n}) g
        RETURNING id
      ), i AS (
        INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
        SELECT id, 1, 'SKU-1', 1, 1250 FROM o
      ), e AS (
        INSERT INTO order_events (order_id, from_status, to_status)
        SELECT o.id, t.from_status, t.to_status FROM o
        CROSS JOIN (VALUES ('pending', 'paid'), ('paid', 'picking'), ('picking', 'packed')) AS t (from_status, to_status)
      )
      SELECT id FROM o ORDER BY id`,
    (rows) => rows.map((row) => Number(row.id))
  )

/** Inserts one pending order; returns its id. */
export const insertPendingOrder = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    const [row] = yield* sql<{ id: string }>`
      INSERT INTO orders (email, status, total_cents) VALUES ('slow@example.com', 'pending', 500) RETURNING id`
    yield* sql`INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents) VALUES (${row.id}, 1, 'SKU-2', 1, 500)`
    return Number(row.id)
  })

/** Order counts by status. */
export const statusCounts = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM orders GROUP BY status`,
    (rows) => Object.fromEntries(rows.map((row) => [row.status, row.n])) as Record<string, number>
  )

/** Event counts by transition, as `"paid->picking": n` (the unique (order, target) key rules out duplicates per order). */
export const eventCounts = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{ fromStatus: string; toStatus: string; n: number }>`
      SELECT from_status, to_status, count(*)::int AS n FROM order_events GROUP BY 1, 2`,
    (rows) =>
      Object.fromEntries(rows.map((row) => [`${row.fromStatus}->${row.toStatus}`, row.n])) as Record<string, number>
  )
