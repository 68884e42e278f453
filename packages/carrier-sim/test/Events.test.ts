import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import type { TrackingEvent } from "../src/Api.js"
import { CarrierSim } from "../src/CarrierSim.js"
import { book, fast, order, poll, request, startSim, until } from "./utils.js"

describe("GET /v1/events", () => {
  it.scopedLive("each shipment emits in_transit then delivered, with increasing seq across the feed", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const booked = yield* Effect.forEach([1, 2, 3], (id) => book(sim, order(id), `order-${id}`))
      const events: Array<TrackingEvent> = []
      let cursor = 0
      while (events.length < 6) {
        const page = yield* poll(sim, cursor, 5)
        assert.strictEqual(page.status, 200)
        events.push(...page.body.events)
        cursor = page.body.cursor
      }
      assert.deepStrictEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6])
      assert.strictEqual(cursor, 6)
      for (const { body } of booked) {
        const mine = events.filter((e) => e.shipmentId === body.shipmentId)
        assert.deepStrictEqual(mine.map((e) => e.type), ["in_transit", "delivered"])
        assert.strictEqual(mine[0].trackingNumber, body.trackingNumber)
      }
      const times = events.map((e) => Date.parse(e.at))
      assert.deepStrictEqual(times, [...times].sort((a, b) => a - b))
      const shipment = yield* request(`${sim.url}/v1/shipments/${booked[0].body.shipmentId}`)
      assert.strictEqual(shipment.body.status, "delivered")

      const replay = yield* poll(sim, 4, 0)
      assert.deepStrictEqual(replay.body.events.map((e: TrackingEvent) => e.seq), [5, 6], "re-readable from any cursor")
    }))

  it.scopedLive("a long poll answers as soon as an event arrives", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ inTransitAfter: "30 millis" })
      const waiting = yield* Effect.fork(poll(sim, 0, 20))
      yield* until(sim, (s) => s.polls.waiting === 1, "poll waiting")
      const booked = yield* book(sim, order(1), "order-1")
      const reply = yield* Fiber.join(waiting)
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.body.events.length, 1)
      assert.deepInclude(reply.body.events[0], { seq: 1, type: "in_transit", shipmentId: booked.body.shipmentId })
      assert.strictEqual(reply.body.cursor, 1)
      assert.isBelow(reply.ms, 5_000, "long before the 20 s wait")
    }))

  it.scopedLive("a long poll with nothing to report answers an empty list after `wait`", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const reply = yield* poll(sim, 0, 0.2)
      assert.deepStrictEqual(reply.body, { events: [], cursor: 0 })
      assert.isAtLeast(reply.ms, 195)
      assert.isBelow(reply.ms, 5_000)
      const immediate = yield* poll(sim, 0, 0)
      assert.deepStrictEqual(immediate.body, { events: [], cursor: 0 })
    }))

  it.scopedLive("a cursor beyond the head (a consumer of an earlier run) is read as 0", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const waiting = yield* Effect.fork(poll(sim, 40, 20))
      yield* until(sim, (s) => s.polls.waiting === 1, "poll waiting")
      yield* book(sim, order(1), "order-1")
      const reply = yield* Fiber.join(waiting)
      assert.deepStrictEqual(reply.body.events.map((e: TrackingEvent) => e.seq), [1])
      assert.strictEqual(reply.body.cursor, 1)
    }))

  it.live("shutdown answers an in-flight long poll at once with an empty list, and completes promptly", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const sim = yield* Layer.buildWithScope(CarrierSim.layer({ ...fast, inTransitAfter: "1 hour" }), scope).pipe(
        Effect.map(Context.get(CarrierSim)),
        Logger.withMinimumLogLevel(LogLevel.Warning)
      )
      // its tracking events are due in an hour: shutdown must not wait for them either
      yield* book(sim, order(1), "order-1")
      const waiting = yield* Effect.fork(poll(sim, 0, 30))
      yield* until(sim, (s) => s.polls.waiting === 1, "poll waiting")
      const started = performance.now()
      const closing = yield* Effect.fork(Effect.uninterruptible(Scope.close(scope, Exit.void)))
      const reply = yield* Fiber.join(waiting)
      assert.strictEqual(reply.status, 200)
      assert.deepStrictEqual(reply.body, { events: [], cursor: 0 })
      yield* Fiber.join(closing)
      const shutdownMs = performance.now() - started
      assert.isBelow(shutdownMs, 2_000, `shutdown took ${Math.round(shutdownMs)} ms, not the 30 s wait`)
      const refused = yield* Effect.either(Effect.tryPromise(() => fetch(`${sim.url}/v1/stats`)))
      assert.strictEqual(refused._tag, "Left", "the listener is closed")
    }))
})
