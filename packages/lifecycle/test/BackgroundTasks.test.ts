import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as BackgroundTasks from "../src/BackgroundTasks.js"
import * as Lifecycle from "../src/Lifecycle.js"
import { makeLogCapture } from "./utils.js"

const setup = (options: BackgroundTasks.Options = {}) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const logs = yield* makeLogCapture
    const context = yield* Layer.buildWithScope(
      BackgroundTasks.layer(options).pipe(Layer.provideMerge(Lifecycle.layer), Layer.provide(logs.layer)),
      scope
    )
    const tasks = Context.get(context, BackgroundTasks.BackgroundTasks)
    // As Layer.launch does: the closing fiber is uninterruptible, as in production.
    const close = Effect.fork(Effect.uninterruptible(Scope.close(scope, Exit.void)))
    return { tasks, close, logs, lifecycle: Context.get(context, Lifecycle.Lifecycle) }
  })

describe("BackgroundTasks", () => {
  it.effect("a task outlives the request fiber that started it (Effect.fork would die with it)", () =>
    Effect.gen(function*() {
      const { tasks } = yield* setup()
      const sent: Array<string> = []
      const request = yield* Effect.fork(
        tasks.run("welcome-email", Effect.sleep("5 seconds").pipe(Effect.andThen(() => sent.push("welcome"))))
      )
      yield* Fiber.join(request) // the "request" has ended
      yield* TestClock.adjust("5 seconds")
      yield* Effect.yieldNow()
      assert.deepStrictEqual(sent, ["welcome"])
      assert.strictEqual((yield* tasks.stats).completed, 1)
    }))

  it.effect("shutdown waits for running tasks instead of interrupting them", () =>
    Effect.gen(function*() {
      const { close, tasks } = yield* setup()
      const sent: Array<string> = []
      yield* tasks.run("email", Effect.sleep("3 seconds").pipe(Effect.andThen(() => sent.push("sent"))))
      const closing = yield* close
      yield* TestClock.adjust("1 second")
      assert.isNull(closing.unsafePoll(), "shutdown is waiting for the task")
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(closing)
      assert.deepStrictEqual(sent, ["sent"])
    }))

  it.effect("at its deadline it interrupts the stragglers and names them", () =>
    Effect.gen(function*() {
      const { close, logs, tasks } = yield* setup({ shutdownTimeout: "10 seconds" })
      yield* tasks.run("stuck-export", Effect.never)
      yield* tasks.run("quick", Effect.sleep("1 second"))
      const closing = yield* close
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(closing)
      assert.match(logs.text(), /gave up after 10s, interrupting 1: stuck-export/)
      assert.deepStrictEqual(yield* tasks.stats, { running: 0, completed: 1, failed: 0, interrupted: 1, refused: 0 })
    }))

  it.effect("run after shutdown began is refused with a typed error, not dropped silently", () =>
    Effect.gen(function*() {
      const { close, logs, tasks } = yield* setup()
      yield* tasks.run("long", Effect.sleep("5 seconds"))
      const closing = yield* close
      yield* TestClock.adjust("1 second")
      const refused = yield* Effect.flip(tasks.run("late", Effect.void))
      assert.strictEqual(refused._tag, "ShuttingDown")
      assert.match(refused.message, /late refused: shutting down/)
      assert.match(logs.text(), /late refused/)
      yield* TestClock.adjust("4 seconds")
      yield* Fiber.join(closing)
      assert.strictEqual((yield* tasks.stats).refused, 1)
    }))

  it.effect("failures and defects are logged with the task's name and do not stop the service", () =>
    Effect.gen(function*() {
      const { logs, tasks } = yield* setup()
      yield* tasks.run("flaky", Effect.fail("smtp unreachable"))
      yield* tasks.run("buggy", Effect.dieMessage("null pointer"))
      yield* tasks.awaitIdle
      let ran = false
      yield* tasks.run("after", Effect.sync(() => (ran = true)))
      yield* tasks.awaitIdle
      assert.isTrue(ran)
      assert.match(logs.text(), /ERROR background task flaky failed.*smtp unreachable/s)
      assert.match(logs.text(), /ERROR background task buggy failed.*null pointer/s)
      assert.deepStrictEqual(yield* tasks.stats, { running: 0, completed: 1, failed: 2, interrupted: 0, refused: 0 })
    }))
})
