import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as Launch from "../src/Launch.js"
import * as Lifecycle from "../src/Lifecycle.js"
import * as Signals from "../src/Signals.js"
import { eventually, makeLogCapture } from "./utils.js"

/** Launches `layer` with hand-sent signals and returns once it reported being started. */
const launch = <E>(layer: Layer.Layer<never, E, Lifecycle.Lifecycle>, options: Launch.Options = {}) =>
  Effect.gen(function*() {
    const signals = yield* Signals.makeTest
    const logs = yield* makeLogCapture
    const fiber = yield* Launch.launch(layer, options).pipe(
      Effect.provideService(Signals.Signals, signals),
      Effect.provide(logs.layer),
      Effect.fork
    )
    // A signal sent before this line would count as "during start-up" (that aborts the start).
    yield* eventually(() => logs.lines.some((line) => line.includes("started in")), "started")
    return { fiber, signals, logs }
  })

/** A component whose finalizer takes `duration` and shows up as a shutdown step. */
const slowFinalizer = (name: string, work: Effect.Effect<void>, entered?: Deferred.Deferred<void>) =>
  Layer.scopedDiscard(
    Effect.flatMap(Lifecycle.Lifecycle, (lifecycle) =>
      Effect.addFinalizer(() =>
        lifecycle.beginStopping.pipe(
          Effect.zipRight(entered ? Deferred.succeed(entered, undefined) : Effect.void),
          Effect.zipRight(work),
          lifecycle.step(name, { pending: () => "still flushing" })
        )
      ))
  )

describe("Launch", () => {
  it.effect("SIGTERM: closes the layer, logs each phase with its duration and a summary, exits 0", () =>
    Effect.gen(function*() {
      const { fiber, logs, signals } = yield* launch(slowFinalizer("flush", Effect.sleep("2 seconds")))
      yield* signals.send("SIGTERM")
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), 0)
      const lines = logs.lines.map((line) => line.replace(/^\w+ /, ""))
      assert.deepStrictEqual(lines.slice(1), [
        "shutdown: SIGTERM received, deadline 25s",
        "shutdown: draining (SIGTERM received)",
        "shutdown: phase draining took 0 ms",
        "shutdown: stopping",
        "shutdown: flush done in 2000 ms",
        "shutdown: phase stopping took 2000 ms",
        "shutdown complete in 2000 ms (draining 0 ms, stopping 2000 ms), exit 0"
      ])
      assert.match(logs.lines[0], /^INFO started in \d+ ms$/)
    }))

  it.effect("the whole shutdown is bounded: past the deadline it exits 1 and names what it abandoned", () =>
    Effect.gen(function*() {
      // Uninterruptible on purpose: a timeout around it that is not disconnected would never fire.
      const { fiber, logs, signals } = yield* launch(
        slowFinalizer("export", Effect.uninterruptible(Effect.never)),
        { shutdownTimeout: "5 seconds" }
      )
      yield* signals.send("SIGTERM")
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), 1)
      assert.match(logs.text(), /ERROR shutdown: deadline of 5s exceeded; abandoned: export \(still flushing\)/)
    }))

  it.effect("a second signal exits at once, saying so", () =>
    Effect.gen(function*() {
      const entered = yield* Deferred.make<void>()
      const { fiber, logs, signals } = yield* launch(slowFinalizer("export", Effect.never, entered))
      yield* signals.send("SIGTERM")
      yield* Deferred.await(entered)
      yield* signals.send("SIGINT")
      assert.strictEqual(yield* Fiber.join(fiber), 130)
      assert.match(
        logs.text(),
        /ERROR shutdown: second signal \(SIGINT\), exiting at once after 0 ms; abandoned: export/
      )
    }))

  it.effect("a finalizer that dies makes the exit code 1 and is logged with its cause", () =>
    Effect.gen(function*() {
      const { fiber, logs, signals } = yield* launch(Layer.scopedDiscard(
        Effect.addFinalizer(() => Effect.dieMessage("pool.end() threw: socket hang up"))
      ))
      yield* signals.send("SIGTERM")
      assert.strictEqual(yield* Fiber.join(fiber), 1)
      assert.match(logs.text(), /ERROR shutdown: a finalizer failed.*pool\.end\(\) threw: socket hang up/s)
      assert.match(logs.text(), /shutdown finished with errors in 0 ms .*exit 1/)
    }))

  it.effect("a signal during start-up stops the start and closes what was built", () =>
    Effect.gen(function*() {
      const signals = yield* Signals.makeTest
      const logs = yield* makeLogCapture
      let closed = false
      const built = Layer.scopedDiscard(Effect.addFinalizer(() => Effect.sync(() => (closed = true))))
      const hanging = Layer.effectDiscard(Effect.never).pipe(Layer.provide(built)) // e.g. a database that never answers
      const fiber = yield* Launch.launch(hanging).pipe(
        Effect.provideService(Signals.Signals, signals),
        Effect.provide(logs.layer),
        Effect.fork
      )
      yield* signals.send("SIGTERM")
      assert.strictEqual(yield* Fiber.join(fiber), 1)
      assert.isTrue(closed)
      assert.match(logs.text(), /start-up failed.*SIGTERM during start-up/s)
    }))

  it.effect("start-up failure: logged, what was built is closed, exit 1", () =>
    Effect.gen(function*() {
      const signals = yield* Signals.makeTest
      const logs = yield* makeLogCapture
      let closed = false
      const built = Layer.scopedDiscard(Effect.addFinalizer(() => Effect.sync(() => (closed = true))))
      const failing = Layer.effectDiscard(Effect.fail("database unreachable")).pipe(Layer.provide(built))
      const code = yield* Launch.launch(failing).pipe(
        Effect.provideService(Signals.Signals, signals),
        Effect.provide(logs.layer)
      )
      assert.strictEqual(code, 1)
      assert.isTrue(closed)
      assert.match(logs.text(), /ERROR start-up failed.*database unreachable/s)
    }))

  it.effect("the application can ask for its own shutdown (a fatal error), which runs the same sequence", () =>
    Effect.gen(function*() {
      const app = Layer.effectDiscard(
        Effect.flatMap(Lifecycle.Lifecycle, (lifecycle) => lifecycle.requestShutdown("listener crashed"))
      )
      const { fiber, logs } = yield* launch(app)
      assert.strictEqual(yield* Fiber.join(fiber), 0)
      assert.match(logs.text(), /shutdown: listener crashed, deadline 25s/)
    }))

  it.effect("the Lifecycle is built before the application and released after it", () =>
    Effect.gen(function*() {
      const phases: Array<string> = []
      const app = Layer.scopedDiscard(
        Effect.flatMap(Lifecycle.Lifecycle, (lifecycle) =>
          Effect.addFinalizer(() =>
            Effect.flatMap(lifecycle.phase, (phase) => Effect.sync(() => phases.push(phase)))
          ))
      )
      const { fiber, signals } = yield* launch(app)
      yield* signals.send("SIGTERM")
      assert.strictEqual(yield* Fiber.join(fiber), 0)
      assert.deepStrictEqual(phases, ["draining"], "finalizers see the shutdown state")
    }))
})
