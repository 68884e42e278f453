/**
 * A transition answers with the state it produced, even when another transition of the same order
 * commits right after it. The interleaving is forced, not hoped for: the test holds the order's row
 * lock, so the pay and then the cancel queue for it, and it lets them go only once both wait; a row
 * lock's waiters are served in turn, so the pay commits first and the cancel right after it. (A table
 * lock would not do: a statement takes its table locks before it runs, so both would wait there and
 * then race for the row.) These are properties of the `Orders` service, so it runs on its own layer
 * and a test database: no HTTP, no workers.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, layer } from "@effect/vitest"
import { TestDatabase } from "@shop/database/testing"
import { InvalidTransition } from "@shop/domain/Errors"
import { CreateOrder } from "@shop/domain/Order"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { Orders } from "../src/Orders.js"
import { anOrder } from "./fixtures.js"

const OrdersTest = Orders.layer.pipe(Layer.provideMerge(TestDatabase.layer))

const newOrder = Effect.flatMap(Orders, (orders) => orders.create(Schema.decodeSync(CreateOrder)(anOrder()), undefined))

/** Waits until `n` statements (not this test's) wait on a lock. */
const waitingOnLocks = (sql: SqlClient.SqlClient, n: number) =>
  sql<{ waiting: string }>`
    SELECT count(*) AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`.pipe(
    Effect.orDie,
    Effect.filterOrFail(([row]) => Number(row.waiting) >= n, () => `fewer than ${n} statements waiting`),
    Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(1_000)))),
    Effect.orDie
  )

layer(OrdersTest, { excludeTestServices: true })("order transitions", (it) => {
  it.scoped(
    "a pay answers the status it produced, not that of a cancel that committed after it",
    () =>
      Effect.gen(function*() {
        const orders = yield* Orders
        const sql = yield* SqlClient.SqlClient
        const { id } = yield* newOrder

        const release = yield* TestDatabase.holdRowLock(sql, "orders", id)

        // the pay first, then the cancel: each waits for the row
        const pay = yield* Effect.fork(Effect.either(orders.transition(id, "paid")))
        yield* waitingOnLocks(sql, 1)
        const cancel = yield* Effect.fork(Effect.either(orders.transition(id, "cancelled")))
        yield* waitingOnLocks(sql, 2)
        yield* release

        for (
          const [attempted, answer] of [["paid", yield* Fiber.join(pay)], [
            "cancelled",
            yield* Fiber.join(cancel)
          ]] as const
        ) {
          if (Either.isRight(answer)) {
            assert.strictEqual(answer.right.status, attempted, `a successful move to ${attempted} answers ${attempted}`)
          } else {
            assert.instanceOf(answer.left, InvalidTransition, `a refused move to ${attempted} is an InvalidTransition`)
          }
        }
        const [final] = yield* sql<{ status: string }>`SELECT status FROM orders WHERE id = ${id}`.pipe(Effect.orDie)
        assert.strictEqual(final.status, "cancelled", "cancel wins from pending and from paid")
      }),
    { timeout: 30_000 }
  )

  it.effect("an order's events are listed and stamped in the order they happened", () =>
    Effect.gen(function*() {
      const orders = yield* Orders
      const sql = yield* SqlClient.SqlClient
      const { id } = yield* newOrder

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
      assert.strictEqual((yield* orders.transition(id, "paid")).status, "paid")
      yield* Deferred.succeed(paid, undefined)
      yield* Fiber.join(tick)

      const { events } = yield* orders.get(id)
      assert.deepStrictEqual(events.map((e) => e.to), ["paid", "picking"])
      assert.isTrue(DateTime.lessThanOrEqualTo(events[0].at, events[1].at), "paid is not stamped after picking")
    }), { timeout: 30_000 })
})
