import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as PeriodicWorker from "../src/PeriodicWorker.js"
import { eventually, startWithLifecycle } from "./utils.js"

/** A fake transactional tick: begin, 2 s of work, commit; an interrupt rolls back. */
const makeFakeDb = Effect.sync(() => {
  const log: Array<string> = []
  const begins = new Map<number, Deferred.Deferred<void>>()
  let n = 0
  const beginOf = (i: number) => {
    if (!begins.has(i)) begins.set(i, Deferred.unsafeMake(undefined as never))
    return begins.get(i)!
  }
  const tick = (work: Effect.Effect<void> = Effect.sleep("2 seconds")) =>
    Effect.suspend(() => {
      const i = ++n
      log.push(`begin ${i}`)
      return Deferred.succeed(beginOf(i), undefined).pipe(
        Effect.zipRight(work),
        Effect.zipRight(Effect.sync(() => log.push(`commit ${i}`))),
        Effect.onInterrupt(() => Effect.sync(() => log.push(`rollback ${i}`)))
      )
    })
  return { log, tick, began: (i: number) => Deferred.await(beginOf(i)) }
})

const start = <A, E>(options: PeriodicWorker.Options<A, E, never>) =>
  Effect.map(startWithLifecycle(PeriodicWorker.make(options)), ({ value, ...rest }) => ({ worker: value, ...rest }))

describe("PeriodicWorker", () => {
  // With a tick timeout the tick runs in an interruptible region: shutdown must still not cut it.
  it.effect.each<{ readonly tickTimeout: Duration.DurationInput | undefined }>([
    { tickTimeout: undefined },
    { tickTimeout: "1 minute" }
  ])(
    "shutdown in the middle of a tick lets it commit, and no tick starts afterwards (tickTimeout $tickTimeout)",
    ({ tickTimeout }) =>
      Effect.gen(function*() {
        const db = yield* makeFakeDb
        const { close } = yield* start({ name: "fulfillment", interval: "5 seconds", tick: db.tick(), tickTimeout })
        yield* TestClock.adjust("7 seconds") // tick 1: 0..2 s, tick 2 begins at 7 s
        yield* db.began(2)
        const closing = yield* close
        yield* TestClock.adjust("1 second")
        assert.isNull(closing.unsafePoll(), "teardown waits for the open transaction")
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(closing)
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual(db.log, ["begin 1", "commit 1", "begin 2", "commit 2"])
      })
  )

  it.effect("`again` runs the next tick at once while it holds; the interval paces the loop after that", () =>
    Effect.gen(function*() {
      let backlog = 3
      const tick = Effect.sync(() => {
        const moved = Math.min(backlog, 1)
        backlog -= moved
        return moved
      })
      const { worker } = yield* start({ name: "w", interval: "1 hour", tick, again: (moved) => moved > 0 })
      // no time passes: three ticks that moved one each, then the empty one that ends the run
      const ticks = () => Effect.runSync(worker.stats).ticks
      yield* eventually(() => ticks() >= 4, "four ticks")
      assert.strictEqual(ticks(), 4)
      assert.strictEqual(backlog, 0)
      yield* TestClock.adjust("59 minutes")
      assert.strictEqual(ticks(), 4, "idle: nothing before the interval")
      yield* TestClock.adjust("1 minute")
      yield* eventually(() => ticks() === 5, "the interval's tick")
    }))

  it.effect("no new tick once draining began, even while the scope is still open (HTTP draining first)", () =>
    Effect.gen(function*() {
      const db = yield* makeFakeDb
      const { lifecycle, worker } = yield* start({ name: "w", interval: "5 seconds", tick: db.tick() })
      yield* db.began(1)
      yield* lifecycle.beginDrain("SIGTERM")
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(db.log, ["begin 1", "commit 1"])
      assert.strictEqual((yield* worker.stats).ticks, 1)
    }))

  it.effect("shutdown while sleeping between ticks is immediate", () =>
    Effect.gen(function*() {
      const db = yield* makeFakeDb
      const { close } = yield* start({ name: "w", interval: "1 hour", tick: db.tick(Effect.void) })
      yield* db.began(1)
      const closing = yield* close
      yield* Fiber.join(closing) // no clock movement needed
      assert.deepStrictEqual(db.log, ["begin 1", "commit 1"])
    }))

  it.effect("a failing tick is logged and the loop goes on (Effect.repeat would stop)", () =>
    Effect.gen(function*() {
      let calls = 0
      const tick = Effect.suspend(() => ++calls === 1 ? Effect.fail("deadlock detected") : Effect.void)
      const { logs, worker } = yield* start({ name: "w", interval: "1 second", tick })
      yield* TestClock.adjust("2 seconds")
      assert.isAtLeast(calls, 3)
      assert.deepInclude(yield* worker.stats, { failures: 1, timeouts: 0 })
      assert.match(logs.text(), /ERROR worker w: tick failed.*deadlock detected/s)
    }))

  it.effect("the tick's own timeout aborts a stuck tick, so shutdown cannot hang on it", () =>
    Effect.gen(function*() {
      const db = yield* makeFakeDb
      const { close, logs, worker } = yield* start({
        name: "w",
        interval: "5 seconds",
        tick: db.tick(Effect.never),
        tickTimeout: "10 seconds"
      })
      yield* db.began(1)
      const closing = yield* close
      yield* TestClock.adjust("9 seconds")
      assert.isNull(closing.unsafePoll(), "shutdown does not interrupt the tick")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
      assert.deepStrictEqual(db.log, ["begin 1", "rollback 1"])
      assert.deepInclude(yield* worker.stats, { failures: 1, timeouts: 1 })
      assert.match(logs.text(), /tick aborted after 10s/)
    }))

  it.effect("trigger runs a tick now instead of waiting for the interval", () =>
    Effect.gen(function*() {
      const db = yield* makeFakeDb
      const { worker } = yield* start({ name: "w", interval: "1 hour", tick: db.tick(Effect.void) })
      yield* db.began(1)
      yield* worker.trigger
      yield* db.began(2) // no clock movement: the 1 hour interval did not pass
      assert.deepStrictEqual(db.log.slice(0, 3), ["begin 1", "commit 1", "begin 2"])
      assert.strictEqual(yield* TestClock.currentTimeMillis, 0)
    }))
})
