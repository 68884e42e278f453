import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import { Fulfillment, steps } from "../src/Fulfillment.js"
import { Outbox } from "../src/Outbox.js"
import { ShopConfig } from "../src/ShopConfig.js"
import { fulfillment, services } from "./layers.js"

const insertOrders = (sql: SqlClient.SqlClient, n: number, status: string) =>
  sql`INSERT INTO orders (email, status, total_cents)
      SELECT 'o' || g || '@example.com', ${status}, 100 FROM generate_series(1, ${n}) g`.pipe(Effect.orDie)

const statuses = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{ status: string; n: string }>`SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status`,
    (rows) => Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]))
  ).pipe(Effect.orDie)

const eventCount = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ n: string }>`SELECT count(*) AS n FROM order_events`, ([row]) => Number(row.n)).pipe(Effect.orDie)

describe("fulfillment worker", () => {
  it("its steps are the domain state machine's fulfillment steps", () => {
    assert.deepStrictEqual(steps, [["paid", "picking"], ["picking", "packed"]])
  })

  it.scopedLive("a tick advances a batch one step each, with one event per transition; other states untouched", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { tick } = yield* Fulfillment
      yield* insertOrders(sql, 4, "paid")
      yield* insertOrders(sql, 1, "pending")
      yield* insertOrders(sql, 1, "cancelled")

      assert.strictEqual(yield* tick, 3, "batch limit")
      assert.deepStrictEqual(yield* statuses(sql), { cancelled: 1, paid: 1, pending: 1, picking: 3 })
      // oldest first: the three picking orders move on before the fourth paid one is picked
      assert.strictEqual(yield* tick, 3)
      assert.strictEqual(yield* tick, 1)
      assert.strictEqual(yield* tick, 1)
      assert.strictEqual(yield* tick, 0)
      assert.deepStrictEqual(yield* statuses(sql), { cancelled: 1, packed: 4, pending: 1 })
      assert.strictEqual(yield* eventCount(sql), 8)
    }).pipe(Effect.provide(fulfillment({ FULFILLMENT_BATCH: "3" }))))

  it.scopedLive("after a tick that moved orders the next runs at once: a backlog drains without waiting for the interval", () =>
    Effect.gen(function*() {
      // the interval is an hour: only the back-to-back ticks can move all of them
      const sql = yield* SqlClient.SqlClient
      const { worker } = yield* Fulfillment
      yield* insertOrders(sql, 35, "paid")
      yield* worker.trigger
      const drained = yield* statuses(sql).pipe(
        Effect.filterOrFail(
          (s) => s.packed === 35,
          (s) => new Error(`the backlog did not drain: ${JSON.stringify(s)}`)
        ),
        Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("10 seconds")))
      )
      assert.deepStrictEqual(drained, { packed: 35 })
      assert.strictEqual(yield* eventCount(sql), 70)
    }).pipe(Effect.provide(fulfillment({ FULFILLMENT_BATCH: "10" }))))

  it.scopedLive("concurrent ticks (as from two replicas) claim disjoint orders: no transition twice", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { tick } = yield* Fulfillment
      yield* insertOrders(sql, 60, "paid")
      const moved = yield* Effect.all([tick, tick, tick], { concurrency: "unbounded" })
      // A tick that starts after another committed may legitimately take its orders one step further;
      // what must never happen is one transition made twice.
      const total = moved.reduce((a, b) => a + b, 0)
      assert.isAtLeast(total, 60)
      assert.strictEqual(yield* eventCount(sql), total)
      const [check] = yield* sql<{ distinctSteps: string }>`
        SELECT count(DISTINCT (order_id, to_status)) AS distinct_steps FROM order_events`.pipe(Effect.orDie)
      assert.strictEqual(Number(check.distinctSteps), total)
      const [orders] = yield* sql<{ n: string }>`SELECT count(*) AS n FROM orders WHERE status = 'paid'`.pipe(
        Effect.orDie
      )
      assert.strictEqual(Number(orders.n), 0, "every order was claimed")
    }).pipe(Effect.provide(fulfillment({ FULFILLMENT_BATCH: "40" }))))

  it.scopedLive("a tick that hits its statement_timeout rolls back as a whole and the loop goes on", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { tick } = yield* Fulfillment
      yield* insertOrders(sql, 5, "paid")
      const locked = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* sql.withTransaction(
        sql`LOCK TABLE order_events IN EXCLUSIVE MODE`.pipe(
          Effect.zipRight(Deferred.succeed(locked, undefined)),
          Effect.zipRight(Deferred.await(release))
        )
      ).pipe(Effect.orDie, Effect.fork)
      yield* Deferred.await(locked)

      const failed = yield* Effect.exit(tick)
      assert.isTrue(failed._tag === "Failure")
      const error = failed._tag === "Failure" ? Cause.squash(failed.cause) as { cause?: { message?: string } } : {}
      assert.match(error.cause?.message ?? "", /statement timeout/)
      assert.deepStrictEqual(yield* statuses(sql), { paid: 5 }, "nothing half done")

      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(yield* tick, 5)
    }).pipe(Effect.provide(fulfillment({ FULFILLMENT_STATEMENT_TIMEOUT: "300 millis" }))))
})

describe("outbox", () => {
  it.scopedLive("the sweeper delivers rows a crash left behind, once", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* Outbox
      const { mailDir } = yield* ShopConfig
      yield* sql`INSERT INTO outbox (kind, recipient, subject, body)
                 VALUES ('welcome', 'lost@example.com', 'Welcome', 'hi'), ('welcome', 'lost2@example.com', 'Welcome', 'hi')`
        .pipe(Effect.orDie)
      assert.strictEqual(yield* outbox.sweep, 2)
      assert.strictEqual(yield* outbox.sweep, 0)
      assert.strictEqual(Fs.readdirSync(mailDir).length, 2)
      const [row] = yield* sql<{ n: string }>`SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL`.pipe(Effect.orDie)
      assert.strictEqual(Number(row.n), 0)
    }).pipe(Effect.provide(services())))

  it.scopedLive("concurrent deliveries of one row send it once (the lease)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* Outbox
      const { mailDir } = yield* ShopConfig
      const [{ id }] = yield* sql<{ id: string }>`
        INSERT INTO outbox (kind, recipient, subject, body) VALUES ('welcome', 'a@example.com', 'W', 'hi') RETURNING id`
        .pipe(Effect.orDie)
      yield* Effect.all([outbox.deliver(Number(id)), outbox.deliver(Number(id)), outbox.sweep], {
        concurrency: "unbounded"
      })
      assert.strictEqual(Fs.readdirSync(mailDir).length, 1)
    }).pipe(Effect.provide(services())))

  it.scopedLive("a failed delivery is recorded and retried only after its lease", () =>
    Effect.gen(function*() {
      // A file where the mail directory should be: every write fails.
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* Outbox
      const { mailDir } = yield* ShopConfig
      Fs.rmSync(mailDir, { recursive: true })
      Fs.writeFileSync(mailDir, "not a directory")
      yield* sql`INSERT INTO outbox (kind, recipient, subject, body) VALUES ('welcome', 'a@example.com', 'W', 'hi')`
        .pipe(Effect.orDie)
      assert.strictEqual(yield* outbox.sweep, 1)
      const [row] = yield* sql<{ attempts: number; lastError: string; sentAt: Date | null }>`
        SELECT attempts, last_error, sent_at FROM outbox`.pipe(Effect.orDie)
      assert.deepInclude(row, { attempts: 1, sentAt: null })
      assert.match(row.lastError, /cannot write/)
      assert.strictEqual(yield* outbox.sweep, 0, "leased: not retried before the lease passes")
    }).pipe(Effect.provide(services({ OUTBOX_LEASE: "1 hour" }))))
})
