import { assert, layer } from "@effect/vitest"
import { TestDatabase } from "@shop/database/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as GraphileWorkerRun from "../src/peers/GraphileWorkerRun.js"
import * as PeerRun from "../src/peers/PeerRun.js"
import * as PgBenchRun from "../src/peers/PgBenchRun.js"
import * as PgBossRun from "../src/peers/PgBossRun.js"

/** The test run's server (`@shop/database`'s global setup); each peer creates its own database on it. */
class AdminUrl extends Context.Tag("bench/test/AdminUrl")<AdminUrl, Redacted.Redacted>() {}

const adminUrl = Layer.effect(AdminUrl, TestDatabase.adminUrl)

const queue = { orders: 200, timeout: "60 seconds" } as const

layer(adminUrl, { excludeTestServices: true, timeout: "90 seconds" })("job peers", (it) => {
  // each run checks itself (every order packed, one picking and one packed event each) and fails otherwise
  it.effect("graphile-worker moves 200 paid orders to packed, one event per transition", () =>
    Effect.gen(function*() {
      const result = yield* GraphileWorkerRun.run(yield* AdminUrl, queue)
      assert.strictEqual(result.orders, 200)
      assert.strictEqual(result.transitions, 400)
      assert.isAbove(result.transitionsPerSecond, 0)
    }), 60_000)

  it.effect("pg-boss moves 200 paid orders to packed, one event per transition", () =>
    Effect.gen(function*() {
      const result = yield* PgBossRun.run(yield* AdminUrl, queue)
      assert.strictEqual(result.transitions, 400)
      assert.isAbove(result.transitionsPerSecond, 0)
    }), 60_000)

  it.effect(
    "pgbench: scripts A and B, every transaction one real transition (or batch)",
    (ctx) =>
      Effect.gen(function*() {
        if (!(yield* PgBenchRun.installed())) {
          console.warn(`pgbench not found at ${PgBenchRun.defaultPath}: this case is skipped`)
          return ctx.skip(`${PgBenchRun.defaultPath} not found`)
        }
        // a fixed number of transactions, not `-T 1`: in one second a fast machine emptied the seed
        // and the check (rightly) failed the run
        const results = yield* PgBenchRun.run(yield* AdminUrl, {
          seconds: 1,
          transactions: 40,
          clients: 2,
          batches: [100, 500],
          orders: 200
        })
        assert.deepStrictEqual(results.map((r) => [r.script, r.batch]), [["A", 1], ["B", 100], ["B", 500]])
        for (const r of results) {
          assert.strictEqual(r.transactions, 80)
          assert.strictEqual(r.transitions, r.transactions * r.batch)
        }
      }),
    60_000
  )

  it.effect(
    "the check refuses an order packed without its picking event, and one left picking",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const db = yield* PeerRun.freshDatabase(yield* AdminUrl, "check")
        const range = yield* PeerRun.seed(db.sql, 3, () => Effect.void)
        yield* db.sql`UPDATE orders SET status = 'packed' WHERE id BETWEEN ${range.first} AND ${range.last}`
        yield* db.sql`INSERT INTO order_events (order_id, from_status, to_status)
                    SELECT id, f, t FROM orders, (VALUES ('paid', 'picking'), ('picking', 'packed')) AS s(f, t)
                    WHERE id BETWEEN ${range.first} AND ${range.last} AND NOT (id = ${range.first} AND t = 'picking')`
        const missing = yield* Effect.flip(PeerRun.verifyPacked(db.sql, range))
        assert.include(missing.message, "event picking: 2")

        yield* db.sql`INSERT INTO order_events (order_id, from_status, to_status)
                    VALUES (${range.first}, 'paid', 'picking')`
        yield* PeerRun.verifyPacked(db.sql, range)
        yield* db.sql`UPDATE orders SET status = 'picking' WHERE id = ${range.last}`
        const behind = yield* Effect.flip(PeerRun.verifyPacked(db.sql, range))
        assert.include(behind.message, "order picking: 1")
      })),
    30_000
  )
})
