/**
 * The carrier integration across real processes: the built shop (`node apps/shop/dist/main.js`)
 * books shipments with the standalone simulator (`node apps/carrier-sim/dist/main.js`), a process
 * of its own, so it outlives the shop's SIGKILL and keeps counting what was booked.
 *
 * "In flight" is read, never guessed: the simulator's `requests.pending` (bookings waiting out its
 * latency), the shop's pool gauges on `/metrics`, and the leases in PostgreSQL.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { eventCounts, freshDatabase, insertPackedOrders, pollUntil, statusCounts } from "./database.js"
import { assertInOrder, killLeftovers, metric, request, start, startCarrierSim, tempDir } from "./harness.js"

afterEach(killLeftovers)

const app = "shop-under-test"

const poolGauges = (port: number) =>
  Effect.map(request(port, "GET", "/metrics"), (response) => ({
    queued: metric(response.body, "lifecycle_pool_queue_depth", { pool: "carrier" }),
    inFlight: metric(response.body, "lifecycle_pool_active_jobs", { pool: "carrier" })
  }))

/** What the shop stored per order, by id. */
const orderRows = (sql: SqlClient.SqlClient) =>
  sql<{
    id: string
    status: string
    trackingNumber: string | null
    shipmentId: string | null
    leaseOwner: string | null
    leasedUntil: Date | null
    carrierAttempts: number
  }>`SELECT id, status, tracking_number, shipment_id, lease_owner, leased_until, carrier_attempts
     FROM orders ORDER BY id`

/** `shop_carrier_bookings_total` by outcome, from a `/metrics` body. */
const bookingOutcomes = (text: string) =>
  Object.fromEntries(
    Array.from(text.matchAll(/^shop_carrier_bookings_total\{outcome="(\w+)"\} (\d+)$/gm), (match) => [
      match[1],
      Number(match[2])
    ])
  )

const historyEvents = (n: number) => ({ "pending->paid": n, "paid->picking": n, "picking->packed": n })

describe("the carrier integration, real processes", () => {
  it.scopedLive(
    "SIGTERM with 32 bookings in flight and 32 queued: in-flight ones persist as shipped, queued ones are released at once, exit 0",
    () =>
      Effect.gen(function*() {
        const db = yield* freshDatabase({ migrate: true })
        const orders = yield* insertPackedOrders(db.sql, 80)
        const sim = yield* startCarrierSim({ CARRIER_SIM_LATENCY: "1500 millis", CARRIER_SIM_JITTER: "0 millis" })
        const shop = yield* start({
          DATABASE_URL: db.urlFor(app),
          MAIL_DIR: yield* tempDir("shop-mail-"),
          CARRIER_URL: sim.url,
          CARRIER_CONCURRENCY: "32",
          CARRIER_DISPATCH_INTERVAL: "50 millis",
          CARRIER_SHUTDOWN_TIMEOUT: "20 seconds",
          FULFILLMENT_INTERVAL: "1 hour"
        })

        // The dispatcher claims up to 2 × concurrency: 32 bookings wait out the carrier's latency,
        // 32 more wait in the pool's queue, and the other 16 orders are not claimed.
        const handshake = yield* pollUntil(
          "32 bookings pending at the carrier, 32 in flight and 32 queued in the pool",
          Effect.all({ carrier: sim.stats(), pool: poolGauges(shop.port) }, { concurrency: 2 }),
          ({ carrier, pool }) => carrier.requests.pending === 32 && pool.inFlight === 32 && pool.queued === 32
        )
        const handshakeAt = Date.now()
        // the premise: none of them answered yet (each takes 1.5 s), so exactly these 32 are in flight
        assert.strictEqual(handshake.carrier.shipments, 0)
        const [leases] = yield* db.sql<{ leased: number; free: number }>`
          SELECT count(*) FILTER (WHERE lease_owner IS NOT NULL)::int AS leased,
                 count(*) FILTER (WHERE lease_owner IS NULL)::int AS free
          FROM orders WHERE status = 'packed'`
        assert.deepStrictEqual(leases, { leased: 64, free: 16 })

        const signalledAt = Date.now()
        yield* shop.kill("SIGTERM")
        const exit = yield* shop.awaitExit("25 seconds")
        const sigtermToExitMs = Date.now() - signalledAt
        assert.deepStrictEqual(exit, { code: 0, signal: null })

        // in SQL: the 32 in flight shipped (with their carrier's tracking number), the rest packed and free
        const rows = yield* orderRows(db.sql)
        assert.deepStrictEqual(rows.map((row) => Number(row.id)), orders)
        const shipped = rows.filter((row) => row.status === "shipped")
        const packed = rows.filter((row) => row.status === "packed")
        assert.deepStrictEqual(yield* statusCounts(db.sql), { shipped: 32, packed: 48 })
        for (const row of shipped) {
          assert.match(row.trackingNumber ?? "", /^SIM[0-9A-F]{12}$/, `order ${row.id}`)
          assert.match(row.shipmentId ?? "", /^shp_[0-9a-f]{16}$/, `order ${row.id}`)
          assert.strictEqual(row.carrierAttempts, 1, `order ${row.id}`)
        }
        // released: claimable at once by another replica, not after the 30 s lease
        for (const row of rows) {
          assert.strictEqual(row.leaseOwner, null, `order ${row.id} lease_owner`)
          assert.strictEqual(row.leasedUntil, null, `order ${row.id} leased_until`)
        }
        // the 32 queued (and the 16 never claimed) were never sent to the carrier
        for (const row of packed) assert.strictEqual(row.carrierAttempts, 0, `order ${row.id}`)
        assert.deepStrictEqual(yield* eventCounts(db.sql), { ...historyEvents(80), "packed->shipped": 32 })

        // at the carrier: 32 shipments, one per key, exactly those of the shipped orders
        const carrier = yield* sim.stats()
        assert.strictEqual(carrier.shipments, 32)
        assert.deepStrictEqual(
          carrier.bookingsByKey,
          Object.fromEntries(shipped.map((row) => [`order-${row.id}`, 1]))
        )
        assert.deepStrictEqual(carrier.requests, { pending: 0, booked: 32, replayed: 0, failed: 0, rejected: 0 })
        for (const row of shipped) {
          const shipment = yield* sim.shipment(row.shipmentId!)
          assert.strictEqual(shipment.status, 200)
          assert.strictEqual(shipment.json.orderId, Number(row.id))
          assert.strictEqual(shipment.json.trackingNumber, row.trackingNumber)
        }

        // the log: queued jobs released as draining began, in-flight ones awaited, then the clean exit
        const messages = shop.messages()
        assertInOrder(messages, [
          "shutdown: SIGTERM received",
          "shutdown: draining (SIGTERM received)",
          "pool carrier: released 32 queued job(s)",
          "shutdown: stopping",
          "shutdown: worker carrier-dispatcher done",
          "shutdown: pool carrier done in",
          "shutdown: closing the database pool (last)",
          "shutdown complete"
        ])
        assert.strictEqual(messages.filter((message) => message.startsWith("pool carrier: released")).length, 1)
        assert.deepStrictEqual(shop.logs().filter((line) => line.logLevel !== "INFO"), [])

        const complete = yield* shop.waitForLog("shutdown complete")
        const poolDone = yield* shop.waitForLog("shutdown: pool carrier done in")
        console.log(
          `SIGTERM with 32 bookings in flight (carrier latency 1500 ms): exit ${sigtermToExitMs} ms after the ` +
            `signal, which came ${signalledAt - handshakeAt} ms after the handshake; shop: "${poolDone.message}", ` +
            `"${complete.message}"`
        )
        assert.isBelow(sigtermToExitMs, 5_000, "the remaining booking latency plus a little")
      }),
    60_000
  )

  it.scopedLive(
    "SIGKILL mid-booking, then a restart: every order shipped and delivered once, one shipment per order",
    () =>
      Effect.gen(function*() {
        const db = yield* freshDatabase({ migrate: true })
        const orders = yield* insertPackedOrders(db.sql, 40)
        const sim = yield* startCarrierSim({
          CARRIER_SIM_LATENCY: "800 millis",
          CARRIER_SIM_JITTER: "0 millis",
          CARRIER_SIM_IN_TRANSIT_AFTER: "100 millis",
          CARRIER_SIM_DELIVERED_AFTER: "300 millis"
        })
        const env = {
          DATABASE_URL: db.urlFor(app),
          MAIL_DIR: yield* tempDir("shop-mail-"),
          CARRIER_URL: sim.url,
          CARRIER_LEASE: "2 seconds",
          CARRIER_CONCURRENCY: "8",
          CARRIER_DISPATCH_INTERVAL: "50 millis",
          FULFILLMENT_INTERVAL: "1 hour"
        }
        const first = yield* start(env)

        const atKill = yield* pollUntil(
          "8 bookings pending at the carrier",
          sim.stats(),
          (stats) => stats.requests.pending === 8
        )
        yield* first.kill("SIGKILL")
        assert.deepStrictEqual(yield* first.awaitExit(), { code: null, signal: "SIGKILL" })
        // none had been answered (each takes 800 ms): these 8 were in flight when the shop died
        assert.strictEqual(atKill.shipments, 0)

        // the dead process's leases stay in the table: nobody books those orders before they expire
        const heldByDead = (yield* orderRows(db.sql)).filter((row) =>
          row.status === "packed" && row.leaseOwner !== null
        )
        assert.isAbove(heldByDead.length, 0, "orders still leased by the dead process")
        for (const row of heldByDead) assert.include(row.leaseOwner!, `:${first.pid}:`, `order ${row.id}`)

        // a hang-up does not cancel a booking: the carrier books the 8 anyway
        const afterKill = yield* pollUntil(
          "the dead process's bookings complete at the carrier",
          sim.stats(),
          (stats) => stats.requests.pending === 0
        )
        const bookedForTheDead = Object.keys(afterKill.bookingsByKey)
        assert.strictEqual(bookedForTheDead.length, atKill.requests.pending)
        const heldKeys = new Set(heldByDead.map((row) => `order-${row.id}`))
        for (const key of bookedForTheDead) assert.isTrue(heldKeys.has(key), `${key} was leased by the dead process`)

        const restartedAt = Date.now()
        const second = yield* start(env)
        yield* pollUntil(
          "every order delivered",
          statusCounts(db.sql),
          (counts) => counts.delivered === orders.length,
          "40 seconds"
        )
        const allDeliveredMs = Date.now() - restartedAt

        // A job renews its lease when it starts, so with these settings a lease should not run out;
        // if one does anyway (a slow machine), the shop says so and the accounting below allows for it:
        // "booked, but its lease had passed" re-books with the same key (a replay at the carrier),
        // "waited past its lease" never calls the carrier.
        const outcomes = bookingOutcomes((yield* request(second.port, "GET", "/metrics")).body)
        let leaseLostTotal = 0
        let bookedButLost = 0
        for (const message of second.messages()) {
          if (/^carrier: order \d+ booked, but its lease had passed/.test(message)) {
            leaseLostTotal++
            bookedButLost++
          } else if (/^carrier: order \d+ waited past its lease/.test(message)) {
            leaseLostTotal++
          }
        }
        assert.deepStrictEqual(outcomes, {
          shipped: orders.length,
          ...(leaseLostTotal > 0 ? { lease_lost: leaseLostTotal } : {})
        })

        // the carrier: one shipment per order. The orders in flight at the kill were re-booked with the
        // same key once their lease passed and got the shipment booked for the dead process (a replay);
        // so was every booking the shop could not store in time. No other request reached the carrier.
        const carrier = yield* sim.stats()
        assert.strictEqual(carrier.shipments, orders.length)
        assert.deepStrictEqual(carrier.bookingsByKey, Object.fromEntries(orders.map((id) => [`order-${id}`, 1])))
        assert.deepStrictEqual(carrier.requests, {
          pending: 0,
          booked: orders.length,
          replayed: bookedForTheDead.length + bookedButLost,
          failed: 0,
          rejected: 0
        })

        const rows = yield* orderRows(db.sql)
        for (const row of rows) {
          assert.strictEqual(row.status, "delivered", `order ${row.id}`)
          assert.strictEqual(row.leaseOwner, null, `order ${row.id}`)
          // An attempt is counted with its outcome: the booking that died with the process, or whose
          // lease ran out before it was stored, left no outcome, so every order shows the one that did.
          assert.strictEqual(row.carrierAttempts, 1, `order ${row.id}`)
          const shipment = yield* sim.shipment(row.shipmentId!)
          assert.strictEqual(shipment.status, 200, `order ${row.id}`)
          assert.strictEqual(shipment.json.orderId, Number(row.id))
          assert.strictEqual(shipment.json.trackingNumber, row.trackingNumber)
          assert.strictEqual(shipment.json.status, "delivered")
        }

        // one event per transition and order (the table is unique on (order, target status))
        assert.deepStrictEqual(yield* eventCounts(db.sql), {
          ...historyEvents(orders.length),
          "packed->shipped": orders.length,
          "shipped->delivered": orders.length
        })
        const histories = yield* db.sql<{ orderId: string; path: string }>`
          SELECT order_id, string_agg(to_status, ',' ORDER BY id) AS path FROM order_events GROUP BY order_id`
        assert.strictEqual(histories.length, orders.length)
        for (const history of histories) {
          assert.strictEqual(history.path, "paid,picking,packed,shipped,delivered", `order ${history.orderId}`)
        }
        // one "has arrived" e-mail per order
        const mails = yield* db.sql<{ subject: string }>`
          SELECT subject FROM outbox WHERE kind = 'delivered' ORDER BY id`
        assert.deepStrictEqual(
          mails.map((mail) => mail.subject).sort(),
          orders.map((id) => `Your order ${id} has arrived`).sort()
        )

        // nothing else went wrong: the only complaints are the feed waiting for a booking to be stored
        // (a `delivered` event of an order still packed is retried) and the lease-lost re-bookings
        const expected = [
          /^pool tracking: job event \d+ failed$/,
          /^tracking: callback failed \(retry in \d+ ms\): event was not processed: NotYetShipped/,
          /^carrier: order \d+ booked, but its lease had passed; the next owner re-books it$/
        ]
        for (const line of second.logs().filter((line) => line.logLevel !== "INFO")) {
          assert.isTrue(
            expected.some((pattern) => pattern.test(line.message)) &&
              (line.cause ?? "NotYetShipped").includes("NotYetShipped"),
            `unexpected ${line.logLevel}: ${line.message} ${line.cause ?? ""}`
          )
        }

        yield* second.kill("SIGTERM")
        assert.deepStrictEqual(yield* second.awaitExit(), { code: 0, signal: null })
        console.log(
          `SIGKILL with ${atKill.requests.pending} bookings in flight (${heldByDead.length} orders leased by the ` +
            `dead process); after the restart all ${orders.length} delivered in ${allDeliveredMs} ms, ` +
            `${carrier.requests.replayed} re-booking(s) answered from the idempotency key ` +
            `(${bookedForTheDead.length} of the dead process's, ${leaseLostTotal} re-booked after their lease ran out before they were stored)`
        )
      }),
    90_000
  )
})
