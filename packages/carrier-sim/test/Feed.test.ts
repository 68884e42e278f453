/** The feed and the booking schedule on the TestClock: no HTTP, no real time. */
import { assert, describe, it } from "@effect/vitest"
import { Lifecycle } from "@shop/lifecycle"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { EventFeed } from "../src/EventFeed.js"
import * as Settings from "../src/Settings.js"
import { Shipments } from "../src/Shipments.js"
import { order } from "./utils.js"

const settings = Settings.resolve({ latency: "200 millis", jitter: 0 }, { port: 0 })
const StoreLive = Shipments.layer(settings).pipe(
  Layer.provideMerge(EventFeed.layer),
  Layer.provideMerge(Lifecycle.layer)
)

const pollFor = (after: number, wait: Duration.DurationInput) =>
  Effect.flatMap(EventFeed, (feed) => feed.poll({ after, wait: Duration.decode(wait), limit: 100 }))

describe("feed and schedule (TestClock)", () => {
  it.effect("a booking answers after the latency; in_transit follows at 300 ms, delivered at 600 ms", () =>
    Effect.gen(function*() {
      const shipments = yield* Shipments
      const booking = yield* Effect.fork(shipments.book("k", order(1)))
      yield* TestClock.adjust("199 millis")
      assert.isNull(booking.unsafePoll(), "still inside the latency")
      yield* TestClock.adjust("1 millis")
      const booked = yield* Fiber.join(booking)

      yield* TestClock.adjust("299 millis")
      assert.deepStrictEqual((yield* pollFor(0, 0)).events, [])
      yield* TestClock.adjust("1 millis")
      const first = yield* pollFor(0, 0)
      assert.deepStrictEqual(first.events.map((e) => [e.seq, e.type, e.shipmentId]), [
        [1, "in_transit", booked.shipmentId]
      ])
      assert.strictEqual(first.events[0].at, new Date(500).toISOString())
      yield* TestClock.adjust("300 millis")
      assert.deepStrictEqual((yield* pollFor(1, 0)).events.map((e) => e.type), ["delivered"])
      assert.strictEqual((yield* shipments.get(booked.shipmentId)).status, "delivered")
    }).pipe(Effect.provide(StoreLive)))

  it.effect("a waiting poll answers empty exactly when `wait` has passed; the wait is capped at 30 s", () =>
    Effect.gen(function*() {
      const waiting = yield* Effect.fork(pollFor(0, "5 seconds"))
      yield* TestClock.adjust("4999 millis")
      assert.isNull(waiting.unsafePoll())
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(yield* Fiber.join(waiting), { events: [], cursor: 0 })

      const long = yield* Effect.fork(pollFor(0, "10 minutes"))
      yield* TestClock.adjust("30 seconds")
      assert.deepStrictEqual(yield* Fiber.join(long), { events: [], cursor: 0 })
    }).pipe(Effect.provide(StoreLive)))

  it.effect("draining answers every waiting poll at once, and later polls without waiting", () =>
    Effect.gen(function*() {
      const lifecycle = yield* Lifecycle.Lifecycle
      const polls = yield* Effect.forEach([1, 2, 3], () => Effect.fork(pollFor(0, "30 seconds")))
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* (yield* EventFeed).stats).waiting, 3)
      yield* lifecycle.beginDrain("test")
      for (const fiber of polls) assert.deepStrictEqual(yield* Fiber.join(fiber), { events: [], cursor: 0 })
      assert.deepStrictEqual(yield* pollFor(0, "30 seconds"), { events: [], cursor: 0 })
      assert.strictEqual(yield* TestClock.currentTimeMillis, 1_000, "no time passed")
    }).pipe(Effect.provide(StoreLive)))

  it.effect("a booking that fails answers after the latency and schedules nothing", () =>
    Effect.gen(function*() {
      const shipments = yield* Shipments
      yield* shipments.setFailureRate(1)
      const booking = yield* Effect.fork(Effect.either(shipments.book("k", order(1))))
      yield* TestClock.adjust("200 millis")
      const result = yield* Fiber.join(booking)
      assert.isTrue(result._tag === "Left" && result.left._tag === "CarrierUnavailable")
      yield* TestClock.adjust("1 minute")
      const stats = yield* shipments.stats
      assert.deepInclude(stats, { shipments: 0, events: 0 })
      assert.throws(() => Effect.runSync(shipments.setFailureRate(1.5)), /between 0 and 1/)
    }).pipe(Effect.provide(StoreLive)))
})
