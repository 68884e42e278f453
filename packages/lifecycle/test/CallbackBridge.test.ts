import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as CallbackBridge from "../src/CallbackBridge.js"
import * as Lifecycle from "../src/Lifecycle.js"
import * as WorkerPool from "../src/WorkerPool.js"
import { eventually } from "./utils.js"

const start = (process: (event: string) => Effect.Effect<void, string>, options: CallbackBridge.Options = {}) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(Lifecycle.layer, scope)
    const lifecycle = Context.get(context, Lifecycle.Lifecycle)
    const callback = yield* Effect.gen(function*() {
      const pool = yield* WorkerPool.make({ name: "feed", concurrency: 1, capacity: 1, process })
      return { pool, callback: yield* CallbackBridge.make(pool, options) }
    }).pipe(Effect.provideService(Lifecycle.Lifecycle, lifecycle), Scope.extend(scope))
    return { ...callback, lifecycle }
  })

/** Calls the library-facing callback the way a third-party SDK would, and watches the promise. */
const call = (callback: (event: string) => Promise<void>, event: string) =>
  Effect.fork(Effect.tryPromise({ try: () => callback(event), catch: (error) => error as Error }))

describe("CallbackBridge", () => {
  it.effect("the callback's promise is the back-pressure: it stays pending while the pool is full", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const seen: Array<string> = []
      const { callback, pool } = yield* start((event) =>
        Effect.sync(() => seen.push(event)).pipe(Effect.zipRight(Deferred.await(gate)))
      )
      yield* Fiber.join(yield* call(callback, "e1")) // taken by the worker
      yield* eventually(() => seen.length === 1, "worker started e1")
      yield* Fiber.join(yield* call(callback, "e2")) // queued
      const third = yield* call(callback, "e3")
      // An admitted event resolves its promise within a few turns of the event loop; give it many.
      for (let turn = 0; turn < 50; turn++) yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
      assert.isNull(third.unsafePoll(), "e3 waits for room: the library is slowed down")
      assert.strictEqual((yield* pool.stats).queued, 1, "the queue holds no more than its capacity")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(third)
      yield* eventually(() => seen.length === 3, "all processed")
      assert.deepStrictEqual(seen, ["e1", "e2", "e3"])
    }))

  it.effect("once draining began the callback rejects with a clear error and the event is not taken", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const { callback, lifecycle } = yield* start((event) => Effect.sync(() => seen.push(event)))
      yield* lifecycle.beginDrain("SIGTERM")
      const error = yield* Effect.flip(Fiber.join(yield* call(callback, "e1")))
      assert.instanceOf(error, CallbackBridge.ShuttingDownError)
      assert.strictEqual((error as CallbackBridge.ShuttingDownError).code, "SHUTTING_DOWN")
      assert.match(error.message, /shutting down/)
      assert.deepStrictEqual(seen, [])
    }))

  it.effect("resolveWhen processed: resolves after the worker finished, rejects when it failed", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const { callback } = yield* start(
        (event) => event === "bad" ? Effect.fail("rejected by carrier") : Effect.sync(() => seen.push(event)),
        { resolveWhen: "processed" }
      )
      yield* Fiber.join(yield* call(callback, "good"))
      assert.deepStrictEqual(seen, ["good"], "processed before the promise resolved")
      const error = yield* Effect.flip(Fiber.join(yield* call(callback, "bad")))
      assert.match(error.message, /rejected by carrier/)
    }))
})
