/**
 * The claims that let several replicas share one database with no leader: the fulfillment tick, the
 * outbox sweep and the carrier dispatcher each take rows with `FOR UPDATE SKIP LOCKED`. A row another
 * transaction holds (another replica's claim) is passed over at once: without SKIP LOCKED the claim
 * waits for that transaction, without FOR UPDATE the UPDATE does — either way the other rows wait too.
 *
 * Also here: every booking request for one order carries the same idempotency key, which is what lets
 * the carrier answer a retried booking (after a timeout, a crash) with the shipment it already made.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { TestDatabase } from "@shop/database/testing"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import { Bookings } from "../src/Bookings.js"
import { Fulfillment } from "../src/Fulfillment.js"
import { Outbox } from "../src/Outbox.js"
import { ShopConfig } from "../src/ShopConfig.js"
import { fakeCarrier } from "./fakeCarrier.js"
import { eventually } from "./fixtures.js"
import { bookings, fulfillment, paidOrder, services } from "./layers.js"

/**
 * `TestDatabase.holdRowLock` stands for another replica's claim. It is forked into a scope that closes
 * before the layers' (`Effect.scoped` inside `Effect.provide`), so a failed test rolls it back first:
 * closing the pool never waits on a transaction the test still holds.
 */
const holdRowLock = TestDatabase.holdRowLock

/** A claim that waits on a lock fails here instead of hanging the test (a normal one takes milliseconds). */
const withoutWaiting = <A>(claim: Effect.Effect<A>) =>
  claim.pipe(
    Effect.disconnect,
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the claim waited for a row lock") }),
    Effect.orDie
  )

/** Two orders placed and paid, then set to `packed` (ready for the carrier). */
const packedOrders = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [a, b] = yield* Effect.forEach(["a@example.com", "b@example.com"], paidOrder)
  yield* sql`UPDATE orders SET status = 'packed' WHERE id IN (${a}, ${b})`.pipe(Effect.orDie)
  return [a, b] as const
})

const ids = (rows: ReadonlyArray<{ readonly id: string }>) => rows.map((row) => Number(row.id))

const statusOf = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{ id: string; status: string }>`SELECT id, status FROM orders ORDER BY id`,
    (rows) => rows.map((row) => [Number(row.id), row.status] as const)
  ).pipe(Effect.orDie)

describe("claims skip rows another transaction holds", () => {
  it.scopedLive("fulfillment: a tick moves the free orders and leaves the locked one for later", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { tick } = yield* Fulfillment
      const [a, b] = ids(
        yield* sql<{ id: string }>`INSERT INTO orders (email, status, total_cents)
          VALUES ('a@example.com', 'paid', 100), ('b@example.com', 'paid', 100) RETURNING id`.pipe(Effect.orDie)
      )
      const release = yield* holdRowLock(sql, "orders", a)

      assert.strictEqual(yield* withoutWaiting(tick), 1)
      assert.deepStrictEqual(yield* statusOf(sql), [[a, "paid"], [b, "picking"]])

      yield* release
      assert.strictEqual(yield* tick, 2)
      assert.deepStrictEqual(yield* statusOf(sql), [[a, "picking"], [b, "packed"]])
    }).pipe(Effect.scoped, Effect.provide(fulfillment())))

  it.scopedLive("outbox: a sweep sends the free rows and leaves the locked one for later", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* Outbox
      const { mailDir } = yield* ShopConfig
      const [a] = ids(
        yield* sql<{ id: string }>`INSERT INTO outbox (kind, recipient, subject, body)
          VALUES ('welcome', 'a@example.com', 'W', 'hi'), ('welcome', 'b@example.com', 'W', 'hi') RETURNING id`
          .pipe(Effect.orDie)
      )
      const release = yield* holdRowLock(sql, "outbox", a)

      assert.strictEqual(yield* withoutWaiting(outbox.sweep), 1)
      const sent = yield* sql<{ recipient: string }>`SELECT recipient FROM outbox WHERE sent_at IS NOT NULL`
        .pipe(Effect.orDie)
      assert.deepStrictEqual(sent.map((row) => row.recipient), ["b@example.com"])
      assert.strictEqual(Fs.readdirSync(mailDir).length, 1)

      yield* release
      assert.strictEqual(yield* outbox.sweep, 1)
      assert.strictEqual(Fs.readdirSync(mailDir).length, 2)
    }).pipe(Effect.scoped, Effect.provide(services())))

  it.scopedLive(
    "carrier dispatcher: a claim books the free order and leaves the locked one for later",
    () =>
      Effect.gen(function*() {
        const carrier = yield* fakeCarrier
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          // the dispatcher only runs when triggered (after its first tick at start-up)
          const { dispatcher } = yield* Bookings
          const [a, b] = yield* packedOrders
          const release = yield* holdRowLock(sql, "orders", a)

          yield* dispatcher.trigger
          yield* eventually(carrier.booked, (booked) => booked.includes(b), "the free order reached the carrier")
          assert.deepStrictEqual(yield* carrier.booked, [b])

          yield* release
          yield* dispatcher.trigger
          yield* eventually(carrier.booked, (booked) => booked.includes(a), "the locked order booked once free")
          assert.deepStrictEqual(yield* carrier.booked, [b, a])
        }).pipe(
          Effect.scoped,
          // before the dispatcher stops: a failed test never waits on a held booking
          Effect.ensuring(carrier.releaseAll),
          Effect.provide(bookings({ CARRIER_URL: carrier.url }))
        )
      }),
    30_000
  )
})

describe("carrier idempotency keys", () => {
  it.scopedLive(
    "every attempt to book one order sends the same key; two orders never share one",
    () =>
      Effect.gen(function*() {
        const carrier = yield* fakeCarrier
        // The carrier holds every booking past CARRIER_TIMEOUT: each attempt times out and is retried.
        const shop = bookings({
          CARRIER_URL: carrier.url,
          CARRIER_TIMEOUT: "100 millis",
          CARRIER_RETRY_BASE: "10 millis",
          CARRIER_RETRY_MAX: "20 millis",
          CARRIER_MAX_ATTEMPTS: "20", // never gives up while the test waits
          CARRIER_DISPATCH_INTERVAL: "20 millis"
        })
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const [a, b] = yield* packedOrders

          const keysOf = (id: number) =>
            Effect.map(
              carrier.requests,
              (requests) =>
                requests.filter((request) => request.orderId === id).map((request) => request.idempotencyKey)
            )
          yield* eventually(
            Effect.all([keysOf(a), keysOf(b)]),
            ([forA, forB]) => forA.length >= 2 && forB.length >= 2,
            "each order's booking timed out and was retried"
          )
          // from now on the carrier answers: the next attempt books the order
          yield* carrier.releaseAll
          yield* eventually(
            statusOf(sql),
            (orders) => orders.every(([, status]) => status === "shipped"),
            "both shipped"
          )

          const [forA, forB] = yield* Effect.all([keysOf(a), keysOf(b)])
          assert.strictEqual(new Set(forA).size, 1, `order ${a} was booked with keys ${forA.join(", ")}`)
          assert.strictEqual(new Set(forB).size, 1, `order ${b} was booked with keys ${forB.join(", ")}`)
          assert.isString(forA[0])
          assert.notStrictEqual(forA[0], forB[0])
        }).pipe(Effect.ensuring(carrier.releaseAll), Effect.provide(shop))
      }),
    30_000
  )
})
