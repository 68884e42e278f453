import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { book, order, request, startSim, until } from "./utils.js"

describe("POST /v1/shipments", () => {
  it.scopedLive("books once per key: the retry gets the same shipment with 200", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const first = yield* book(sim, order(1), "order-1")
      const second = yield* book(sim, order(1), "order-1")
      assert.strictEqual(first.status, 201)
      assert.strictEqual(second.status, 200)
      assert.deepStrictEqual(second.body, first.body)
      assert.match(first.body.shipmentId, /^shp_[0-9a-f]{16}$/)
      assert.match(first.body.trackingNumber, /^SIM[0-9A-F]{12}$/)
      const stats = yield* sim.stats
      assert.strictEqual(stats.shipments, 1)
      assert.deepStrictEqual(stats.bookingsByKey, { "order-1": 1 })
      assert.deepInclude(stats.requests, { booked: 1, replayed: 1 })

      const shipment = yield* request(`${sim.url}/v1/shipments/${first.body.shipmentId}`)
      assert.strictEqual(shipment.status, 200)
      assert.deepInclude(shipment.body, { ...order(1), shipmentId: first.body.shipmentId })
    }))

  it.scopedLive("20 concurrent requests with one key create one shipment and all get its ids", () =>
    Effect.gen(function*() {
      // latency keeps all 20 inside the booking window at once
      const sim = yield* startSim({ latency: "30 millis", jitter: "10 millis" })
      const replies = yield* Effect.forEach(Array.from({ length: 20 }), () => book(sim, order(7), "order-7"), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(replies.map((r) => r.status).sort((a, b) => a - b), [...Array(19).fill(200), 201])
      const ids = new Set(replies.map((r) => `${r.body.shipmentId}/${r.body.trackingNumber}`))
      assert.strictEqual(ids.size, 1)
      const stats = yield* sim.stats
      assert.strictEqual(stats.shipments, 1)
      assert.deepStrictEqual(stats.bookingsByKey, { "order-7": 1 })
    }))

  it.scopedLive("without Idempotency-Key: 400 with a JSON error, at once, nothing booked", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ latency: "5 seconds" })
      const reply = yield* book(sim, order(2))
      assert.strictEqual(reply.status, 400)
      assert.strictEqual(reply.body._tag, "MissingIdempotencyKey")
      assert.match(reply.body.message, /Idempotency-Key header is required/)
      assert.isBelow(reply.ms, 2_000, "validated before the latency")
      assert.strictEqual((yield* sim.stats).shipments, 0)
    }))

  it.scopedLive("failure rate 1.0: 503 with a JSON body after the latency, no shipment; the retry books it", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ latency: "40 millis", failureRate: 1 })
      const failed = yield* book(sim, order(3), "order-3")
      assert.strictEqual(failed.status, 503)
      assert.strictEqual(failed.body._tag, "CarrierUnavailable")
      assert.isAtLeast(failed.ms, 39, "answered after the latency")
      const afterFailure = yield* sim.stats
      assert.strictEqual(afterFailure.shipments, 0)
      assert.deepStrictEqual(afterFailure.bookingsByKey, {})
      assert.strictEqual(afterFailure.requests.failed, 1)

      yield* sim.setFailureRate(0)
      const retried = yield* book(sim, order(3), "order-3")
      assert.strictEqual(retried.status, 201)
      assert.deepStrictEqual((yield* sim.stats).bookingsByKey, { "order-3": 1 })
    }))

  it.scopedLive("a client that hangs up during the latency still gets its shipment booked; the retry finds it", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ latency: "150 millis" })
      const controller = new AbortController()
      const aborted = yield* Effect.fork(
        Effect.either(Effect.tryPromise(() =>
          fetch(`${sim.url}/v1/shipments`, {
            method: "POST",
            signal: controller.signal,
            headers: { "content-type": "application/json", "idempotency-key": "order-4" },
            body: JSON.stringify(order(4))
          })
        ))
      )
      yield* until(sim, (s) => s.requests.pending === 1, "booking in progress")
      controller.abort()
      yield* until(sim, (s) => s.shipments === 1, "booked despite the hang-up")
      const retried = yield* book(sim, order(4), "order-4")
      assert.strictEqual(retried.status, 200)
      assert.deepStrictEqual((yield* sim.stats).bookingsByKey, { "order-4": 1 })
      assert.isTrue((yield* aborted.await)._tag === "Success")
    }))

  it.scopedLive("the same key with another body: 422, the first shipment stays the only one", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const first = yield* book(sim, order(5), "order-5")
      const conflict = yield* book(sim, order(6), "order-5")
      assert.strictEqual(conflict.status, 422)
      assert.deepInclude(conflict.body, { _tag: "IdempotencyConflict", shipmentId: first.body.shipmentId })
      assert.strictEqual((yield* sim.stats).shipments, 1)
    }))

  it.scopedLive("bad bodies and unknown ids get JSON errors", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const invalid = yield* book(sim, { orderId: 1, email: "a@b", items: [] }, "k")
      assert.strictEqual(invalid.status, 400)
      assert.strictEqual(invalid.body._tag, "HttpApiDecodeError")
      const malformed = yield* request(`${sim.url}/v1/shipments`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "k" },
        body: "{"
      })
      assert.strictEqual(malformed.status, 400)
      assert.strictEqual(malformed.body._tag, "BadRequest")
      const missing = yield* request(`${sim.url}/v1/shipments/shp_nope`)
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(missing.body, {
        _tag: "ShipmentNotFound",
        shipmentId: "shp_nope",
        message: "shipment shp_nope does not exist"
      })
      assert.strictEqual((yield* sim.stats).shipments, 0)
    }))
})
