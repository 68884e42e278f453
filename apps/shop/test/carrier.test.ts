import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { CarrierSim } from "@shop/carrier-sim"
import { Lifecycle } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { Bookings } from "../src/Bookings.js"
import { anOrder, clientFor, eventually as eventuallyWithin, metricsText } from "./fixtures.js"
import { freshDatabase } from "./layers.js"
import { sqlFor, startShop } from "./support.js"

/** The carrier's pace (tens of milliseconds per step, 200 orders) needs a longer wait than the default. */
const eventually = <A, E, R>(check: Effect.Effect<A, E, R>, holds: (a: A) => boolean, what: string) =>
  eventuallyWithin(check, holds, what, { bound: 200, every: "50 millis" })

const count = (sql: SqlClient.SqlClient, query: string) =>
  Effect.map(sql.unsafe<{ n: string }>(query), ([row]) => Number(row.n)).pipe(Effect.orDie)

/** A carrier simulator shared by several shops (replicas, restarts). */
const sharedCarrier = (options: Parameters<typeof CarrierSim.layer>[0] = {}) =>
  Effect.map(
    Layer.build(CarrierSim.layer({ latency: "20 millis", jitter: "5 millis", ...options })),
    (context) => Context.get(context, CarrierSim)
  )

const placeAndPay = (baseUrl: string, n: number) =>
  Effect.flatMap(
    clientFor(baseUrl),
    (client) =>
      Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
        Effect.gen(function*() {
          const created = yield* client.orders.create({ payload: anOrder(`c${i}@example.com`), headers: {} })
          const paid = yield* client.orders.pay({ path: { id: created.id } })
          assert.strictEqual(paid.status, "paid")
          return created.id
        }), { concurrency: 10 })
  )

const shippedBookings = (baseUrl: string) =>
  Effect.map(
    metricsText(baseUrl),
    (text) => Number(/^shop_carrier_bookings_total\{outcome="shipped"\} (\d+)$/m.exec(text)?.[1] ?? 0)
  )

describe("carrier integration", () => {
  for (const replicas of [1, 2]) {
    it.scopedLive(
      `200 orders from pay to delivered through the real HTTP API, ${replicas} replica(s)`,
      () =>
        Effect.gen(function*() {
          const carrier = yield* sharedCarrier({ inTransitAfter: "30 millis", deliveredAfter: "60 millis" })
          const databaseUrl = yield* freshDatabase
          const settings = { CARRIER_URL: carrier.url, FULFILLMENT_INTERVAL: "50 millis", FULFILLMENT_BATCH: "50" }
          const shops = yield* Effect.forEach(
            Array.from({ length: replicas }),
            () => startShop(settings, { databaseUrl })
          )
          const sql = Context.get(shops[0].context, SqlClient.SqlClient)
          const shippedBefore = yield* shippedBookings(shops[0].baseUrl)
          yield* placeAndPay(shops[0].baseUrl, 200)

          yield* eventually(
            count(sql, "SELECT count(*) AS n FROM orders WHERE status = 'delivered'"),
            (n) => n === 200,
            "all 200 delivered"
          )
          const stats = yield* carrier.stats
          assert.strictEqual(stats.shipments, 200)
          assert.deepStrictEqual(new Set(Object.values(stats.bookingsByKey)), new Set([1]), "one shipment per order")
          assert.strictEqual(yield* count(sql, "SELECT count(*) AS n FROM order_events"), 200 * 5)
          assert.strictEqual(yield* count(sql, "SELECT count(*) AS n FROM outbox WHERE kind = 'delivered'"), 200)
          const read = yield* Effect.flatMap(clientFor(shops[0].baseUrl), (client) =>
            client.orders.get({ path: { id: 1 } }))
          assert.deepStrictEqual(
            read.events.map((e) =>
              e.to
            ),
            ["paid", "picking", "packed", "shipped", "delivered"]
          )
          assert.match(read.trackingNumber ?? "", /\w+/)
          // in-process replicas share one metric registry: the count is theirs together
          assert.strictEqual(
            (yield* shippedBookings(shops[0].baseUrl)) - shippedBefore,
            200,
            "each booking counted once"
          )
        }),
      60_000
    )
  }

  it.scopedLive(
    "shutdown with bookings stuck at the carrier completes on time and hands every lease back",
    () =>
      Effect.gen(function*() {
        const carrier = yield* sharedCarrier({ latency: "1 hour", jitter: "0 millis" })
        const databaseUrl = yield* freshDatabase // outlives the shop's scope
        const sql = yield* sqlFor(databaseUrl)
        const scope = yield* Scope.make()
        const shop = yield* startShop({
          CARRIER_URL: carrier.url,
          CARRIER_CONCURRENCY: "2",
          CARRIER_SHUTDOWN_TIMEOUT: "300 millis",
          FULFILLMENT_INTERVAL: "20 millis"
        }, { databaseUrl }).pipe(Scope.extend(scope))
        const { pool } = Context.get(shop.context, Bookings)
        yield* placeAndPay(shop.baseUrl, 8)
        // workers busy, queue full: the classic set-up for a shutdown deadlock
        yield* eventually(pool.stats, (s) => s.inFlight === 2 && s.queued === 2, "pool full")
        // the pool fills at 4 packed orders; the fulfillment worker packs the other 4 meanwhile
        yield* eventually(
          count(sql, "SELECT count(*) AS n FROM orders WHERE status = 'packed'"),
          (n) => n === 8,
          "all 8 packed"
        )

        yield* Scope.close(scope, Exit.void).pipe(Effect.uninterruptible, Effect.timeout("10 seconds"))
        assert.strictEqual(yield* count(sql, "SELECT count(*) AS n FROM orders WHERE status = 'packed'"), 8)
        assert.strictEqual(
          yield* count(
            sql,
            "SELECT count(*) AS n FROM orders WHERE lease_owner IS NOT NULL OR leased_until IS NOT NULL"
          ),
          0,
          "queued and interrupted bookings released: claimable at once by another replica"
        )
      }),
    30_000
  )

  it.scopedLive(
    "failures retry with backoff, give up visibly after CARRIER_MAX_ATTEMPTS, and an operator can retry",
    () =>
      Effect.gen(function*() {
        const carrier = yield* sharedCarrier({ failureRate: 1 })
        const shop = yield* startShop({
          CARRIER_URL: carrier.url,
          CARRIER_MAX_ATTEMPTS: "3",
          CARRIER_RETRY_BASE: "20 millis",
          FULFILLMENT_INTERVAL: "20 millis",
          CARRIER_DISPATCH_INTERVAL: "20 millis"
        })
        const client = yield* clientFor(shop.baseUrl)
        const [id] = yield* placeAndPay(shop.baseUrl, 1)
        const failed = yield* eventually(
          client.orders.get({ path: { id } }),
          (order) => order.carrier.failed,
          "booking given up"
        )
        assert.strictEqual(failed.status, "packed")
        assert.strictEqual(failed.carrier.attempts, 3)
        assert.match(failed.carrier.lastError ?? "", /503|unavailable/i)
        assert.strictEqual((yield* carrier.stats).shipments, 0)

        const notFailed = yield* Effect.flip(client.orders.retryBooking({ path: { id: 999 } }))
        assert.strictEqual(notFailed._tag, "OrderNotFound")
        yield* carrier.setFailureRate(0)
        const retried = yield* client.orders.retryBooking({ path: { id } })
        assert.deepInclude(retried.carrier, { failed: false, attempts: 0 })
        yield* eventually(
          Effect.map(client.orders.get({ path: { id } }), (order) => order.status),
          (status) => status === "delivered",
          "delivered after the operator's retry"
        )
        const again = yield* Effect.flip(client.orders.retryBooking({ path: { id } }))
        assert.strictEqual(again._tag, "BookingNotFailed")
      }),
    30_000
  )

  it.scopedLive(
    "the feed during shutdown: a rejected event is redelivered after a restart and processed once",
    () =>
      Effect.gen(function*() {
        // "delivered" comes 1.5 s after booking: far longer than it takes to see "shipped" and start draining
        const carrier = yield* sharedCarrier({ inTransitAfter: "10 millis", deliveredAfter: "1500 millis" })
        const databaseUrl = yield* freshDatabase
        const settings = { CARRIER_URL: carrier.url, FULFILLMENT_INTERVAL: "20 millis" }
        const firstScope = yield* Scope.make()
        const first = yield* startShop(settings, { databaseUrl }).pipe(Scope.extend(firstScope))
        const sql = Context.get(first.context, SqlClient.SqlClient)
        const [id] = yield* placeAndPay(first.baseUrl, 1)
        yield* eventually(
          count(sql, `SELECT count(*) AS n FROM orders WHERE id = ${id} AND status = 'shipped'`),
          (n) => n === 1,
          "shipped"
        )
        // Draining begins: from now on the callback rejects, and the SDK keeps the event.
        yield* Context.get(first.context, Lifecycle.Lifecycle).beginDrain("test: shutting down")
        yield* eventually(carrier.stats, (s) => s.events >= 2, "the delivered event was emitted")
        assert.strictEqual(yield* count(sql, `SELECT count(*) AS n FROM orders WHERE status = 'delivered'`), 0)
        yield* Scope.close(firstScope, Exit.void).pipe(Effect.uninterruptible)

        const second = yield* startShop(settings, { databaseUrl })
        const sql2 = Context.get(second.context, SqlClient.SqlClient)
        yield* eventually(
          count(sql2, `SELECT count(*) AS n FROM orders WHERE status = 'delivered'`),
          (n) => n === 1,
          "delivered after the restart"
        )
        assert.strictEqual(
          yield* count(sql2, "SELECT count(*) AS n FROM order_events WHERE to_status = 'delivered'"),
          1
        )
        assert.strictEqual(yield* count(sql2, "SELECT count(*) AS n FROM outbox WHERE kind = 'delivered'"), 1)
        assert.strictEqual(yield* count(sql2, "SELECT cursor AS n FROM carrier_feed"), 2)
      }),
    30_000
  )
})
