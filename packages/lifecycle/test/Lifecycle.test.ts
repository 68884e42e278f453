import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Lifecycle from "../src/Lifecycle.js"

describe("Lifecycle", () => {
  it.effect("phases only move forward and awaitDraining wakes when draining begins", () =>
    Effect.gen(function*() {
      const lifecycle = yield* Lifecycle.make
      const waiter = yield* Effect.fork(lifecycle.awaitDraining)
      assert.strictEqual(yield* lifecycle.phase, "running")
      assert.isNull(waiter.unsafePoll())

      yield* lifecycle.beginDrain("SIGTERM received")
      yield* Fiber.join(waiter)
      assert.strictEqual(yield* lifecycle.phase, "draining")
      assert.isFalse(yield* lifecycle.isRunning)

      yield* lifecycle.markStopped
      yield* lifecycle.beginDrain("again") // no way back
      assert.strictEqual(yield* lifecycle.phase, "stopped")
      const report = yield* lifecycle.report
      assert.deepStrictEqual(report.phases.map((p) => p.phase), ["running", "draining", "stopping", "stopped"])
      assert.strictEqual(report.reason, "SIGTERM received")
    }))

  it.effect("reports how long each phase and step took", () =>
    Effect.gen(function*() {
      const lifecycle = yield* Lifecycle.make
      yield* lifecycle.beginDrain("test")
      yield* TestClock.adjust("3 seconds")
      yield* lifecycle.beginStopping
      const step = yield* Effect.fork(lifecycle.step("flush")(Effect.sleep("2 seconds")))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(step)
      yield* lifecycle.markStopped
      const report = yield* lifecycle.report
      const durations = Object.fromEntries(report.phases.map((p) => [p.phase, p.durationMs]))
      assert.strictEqual(durations.draining, 3000)
      assert.strictEqual(durations.stopping, 2000)
      assert.deepStrictEqual(report.steps.map((s) => [s.name, s.durationMs, s.outcome]), [["flush", 2000, "done"]])
    }))

  it.effect("a step still running is reported with what it waits for", () =>
    Effect.gen(function*() {
      const lifecycle = yield* Lifecycle.make
      yield* Effect.fork(lifecycle.step("drain pool", { pending: () => "2 jobs in flight" })(Effect.never))
      yield* Effect.yieldNow()
      const [step] = (yield* lifecycle.report).steps
      assert.strictEqual(step.outcome, "running")
      assert.strictEqual(step.pending, "2 jobs in flight")
    }))

  it.effect("readiness: ready while running with passing checks; not ready when draining or a check fails", () =>
    Effect.gen(function*() {
      const lifecycle = yield* Lifecycle.make
      let databaseUp = true
      const scope = yield* Scope.make()
      yield* lifecycle.addReadinessCheck(
        "database",
        Effect.suspend(() => databaseUp ? Effect.void : Effect.fail(new Error("connection refused")))
      ).pipe(Scope.extend(scope))

      assert.deepStrictEqual(yield* lifecycle.readiness, {
        ready: true,
        phase: "running",
        checks: [{ name: "database", ok: true }]
      })

      databaseUp = false
      const down = yield* lifecycle.readiness
      assert.isFalse(down.ready)
      assert.deepStrictEqual(down.checks, [{ name: "database", ok: false, error: "connection refused" }])

      yield* Scope.close(scope, Exit.void) // check unregistered with its scope
      assert.isTrue((yield* lifecycle.readiness).ready)

      yield* lifecycle.beginDrain("SIGTERM")
      assert.deepStrictEqual(yield* lifecycle.readiness, { ready: false, phase: "draining", checks: [] })
    }))

  it.effect("a check that hangs counts as failed after 2 seconds instead of hanging /readyz", () =>
    Effect.gen(function*() {
      const lifecycle = yield* Lifecycle.make
      yield* lifecycle.addReadinessCheck("stuck", Effect.never).pipe(Effect.scoped)
      const scope = yield* Scope.make()
      yield* lifecycle.addReadinessCheck("stuck", Effect.never).pipe(Scope.extend(scope))
      const result = yield* Effect.fork(lifecycle.readiness)
      yield* TestClock.adjust("2 seconds")
      const readiness = yield* Fiber.join(result)
      assert.isFalse(readiness.ready)
      assert.match(readiness.checks[0].error ?? "", /no answer within 2s/)
    }))
})
