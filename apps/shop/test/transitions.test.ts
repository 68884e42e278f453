/**
 * A transition answers with the state it produced, even when another transition of the same order
 * commits right after it. The interleaving is forced, not hoped for: the test holds an exclusive lock
 * on `order_items` (read to build every order answer), so each request stops at its first read of that
 * table, and it lets them go only once both are waiting.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { anOrder, call, type JsonResponse, sqlFor, startShop } from "./support.js"

/** Waits until `n` statements of the shop (not this test's, not the dispatcher's claim) wait on a lock. */
const waitingOnLocks = (sql: SqlClient.SqlClient, n: number) =>
  sql<{ waiting: string }>`
    SELECT count(*) AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`.pipe(
    Effect.orDie,
    Effect.filterOrFail(([row]) => Number(row.waiting) >= n, () => `fewer than ${n} statements waiting`),
    Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(1_000)))),
    Effect.orDie
  )

describe("order transitions", () => {
  it.scopedLive("a pay answers the status it produced, not that of a cancel that committed after it", () =>
    Effect.gen(function*() {
      // no claims running beside the requests: only they can be waiting on the lock
      const { baseUrl, databaseUrl } = yield* startShop({ CARRIER_DISPATCH_INTERVAL: "1 hour" })
      const sql = yield* sqlFor(databaseUrl)
      const created = yield* call(baseUrl, "POST", "/v1/orders", anOrder())
      const id = created.body.id as number

      const locked = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* sql.withTransaction(
        sql`LOCK TABLE order_items IN ACCESS EXCLUSIVE MODE`.pipe(
          Effect.zipRight(Deferred.succeed(locked, undefined)),
          Effect.zipRight(Deferred.await(release))
        )
      ).pipe(Effect.orDie, Effect.fork)
      yield* Deferred.await(locked)

      // the pay first: it stops at order_items (before it changed anything, or after it committed)
      const pay = yield* Effect.fork(call(baseUrl, "POST", `/v1/orders/${id}/pay`))
      yield* waitingOnLocks(sql, 1)
      // then the cancel: it too gets as far as order_items (and, if the pay committed, commits itself)
      const cancel = yield* Effect.fork(call(baseUrl, "POST", `/v1/orders/${id}/cancel`))
      yield* waitingOnLocks(sql, 2)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)

      const answers: ReadonlyArray<[string, JsonResponse]> = [
        ["paid", yield* Fiber.join(pay)],
        ["cancelled", yield* Fiber.join(cancel)]
      ]
      for (const [attempted, response] of answers) {
        assert.include([200, 409], response.status, JSON.stringify(response.body))
        if (response.status === 200) {
          assert.strictEqual(response.body.status, attempted, `a successful move to ${attempted} answers ${attempted}`)
        }
      }
      const [final] = yield* sql<{ status: string }>`SELECT status FROM orders WHERE id = ${id}`.pipe(Effect.orDie)
      assert.strictEqual(final.status, "cancelled", "cancel wins from pending and from paid")
    }))

  it.scopedLive("an order's events are listed and stamped in the order they happened", () =>
    Effect.gen(function*() {
      const { baseUrl, databaseUrl } = yield* startShop({
        CARRIER_DISPATCH_INTERVAL: "1 hour",
        FULFILLMENT_INTERVAL: "1 hour"
      })
      const sql = yield* sqlFor(databaseUrl)
      const created = yield* call(baseUrl, "POST", "/v1/orders", anOrder())
      const id = created.body.id as number

      // What a fulfillment tick does when its transaction began before the pay committed: it claims
      // the paid order afterwards and writes the next event, in a transaction older than the pay.
      const begun = yield* Deferred.make<void>()
      const paid = yield* Deferred.make<void>()
      const tick = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT now()`
        yield* Deferred.succeed(begun, undefined)
        yield* Deferred.await(paid)
        const moved = yield* sql`UPDATE orders SET status = 'picking' WHERE id = ${id} AND status = 'paid' RETURNING id`
        assert.strictEqual(moved.length, 1, "the tick sees the committed pay")
        yield* sql`INSERT INTO order_events (order_id, from_status, to_status) VALUES (${id}, 'paid', 'picking')`
      })).pipe(Effect.orDie, Effect.fork)
      yield* Deferred.await(begun)
      assert.strictEqual((yield* call(baseUrl, "POST", `/v1/orders/${id}/pay`)).status, 200)
      yield* Deferred.succeed(paid, undefined)
      yield* Fiber.join(tick)

      const read = yield* call(baseUrl, "GET", `/v1/orders/${id}`)
      const events = read.body.events as ReadonlyArray<{ to: string; at: string }>
      assert.deepStrictEqual(events.map((e) => e.to), ["paid", "picking"])
      assert.isAtMost(Date.parse(events[0].at), Date.parse(events[1].at), "paid is not stamped after picking")
    }))
})
