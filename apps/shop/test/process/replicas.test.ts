/**
 * Two replicas on one database need no leader: both migrate a fresh database at start-up, and
 * their fulfillment workers (`FOR UPDATE SKIP LOCKED`) take disjoint orders.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Migrations } from "@shop/database"
import * as Effect from "effect/Effect"
import { eventCounts, freshDatabase, insertPaidOrders, pollUntil, statusCounts } from "./database.js"
import { killLeftovers, metric, request, start, tempDir } from "./harness.js"

afterEach(killLeftovers)

describe("two replicas of the real process", () => {
  it.scopedLive(
    "500 paid orders: each transition made once, the work split, both stop with 0",
    () =>
      Effect.gen(function*() {
        const db = yield* freshDatabase({ migrate: false })
        const env = (name: string) =>
          Effect.map(tempDir("shop-mail-"), (mailDir) => ({
            DATABASE_URL: db.urlFor(name),
            MAIL_DIR: mailDir,
            FULFILLMENT_BATCH: "20",
            FULFILLMENT_INTERVAL: "50 millis"
          }))
        // started together on an empty database: both run the migrations concurrently
        const [a, b] = yield* Effect.all([start(yield* env("replica-a")), start(yield* env("replica-b"))], {
          concurrency: 2
        })
        const migrated = yield* db.sql<{ n: number }>`SELECT count(*)::int AS n FROM effect_sql_migrations`
        assert.strictEqual(migrated[0].n, Object.keys(Migrations.migrations).length)

        const insertedAt = Date.now()
        const orders = yield* insertPaidOrders(db.sql, 500)
        // packed orders go on to the carrier (shipped, delivered): wait for fulfillment's part only
        yield* pollUntil(
          "fulfillment moved every order to packed",
          eventCounts(db.sql),
          (events) => events["picking->packed"] === orders.length,
          "30 seconds"
        )
        const packedInMs = Date.now() - insertedAt
        const statuses = yield* statusCounts(db.sql)
        assert.strictEqual((statuses.packed ?? 0) + (statuses.shipped ?? 0) + (statuses.delivered ?? 0), 500)
        const events = yield* eventCounts(db.sql)
        assert.strictEqual(events["pending->paid"], 500)
        assert.strictEqual(events["paid->picking"], 500)
        assert.strictEqual(events["picking->packed"], 500)

        const scrape = (port: number) => Effect.map(request(port, "GET", "/metrics"), (response) => response.body)
        const [metricsA, metricsB] = yield* Effect.all([scrape(a.port), scrape(b.port)])
        const byA = metric(metricsA, "shop_fulfillment_transitions_total")
        const byB = metric(metricsB, "shop_fulfillment_transitions_total")
        assert.strictEqual(byA + byB, 1000, `a: ${byA}, b: ${byB}`)
        const ticks = (text: string, outcome: string) =>
          metric(text, "lifecycle_worker_tick_duration_seconds_count", { worker: "fulfillment", outcome })
        assert.strictEqual(ticks(metricsA, "failed") + ticks(metricsA, "timeout"), 0)
        assert.strictEqual(ticks(metricsB, "failed") + ticks(metricsB, "timeout"), 0)

        console.log(
          `work split: replica a ${byA} transitions in ${ticks(metricsA, "ok")} ticks, replica b ${byB} in ` +
            `${ticks(metricsB, "ok")} ticks; all packed ${packedInMs} ms after the insert`
        )

        yield* Effect.all([a.kill("SIGTERM"), b.kill("SIGTERM")])
        const exits = yield* Effect.all([a.awaitExit(), b.awaitExit()], { concurrency: 2 })
        assert.deepStrictEqual(exits, [{ code: 0, signal: null }, { code: 0, signal: null }])
        for (const shop of [a, b]) {
          assert.deepStrictEqual(shop.logs().filter((line) => line.logLevel !== "INFO"), [])
        }
      }),
    60_000
  )
})
