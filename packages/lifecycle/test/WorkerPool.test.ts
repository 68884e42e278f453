import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as WorkerPool from "../src/WorkerPool.js"
import { eventually, startWithLifecycle } from "./utils.js"

/** Jobs that start, signal it, and wait for the test to let them finish. */
const makeJobs = Effect.sync(() => {
  const gates = new Map<string, Deferred.Deferred<void>>()
  const started = new Map<string, Deferred.Deferred<void>>()
  const done: Array<string> = []
  const get = (map: Map<string, Deferred.Deferred<void>>, job: string) => {
    if (!map.has(job)) map.set(job, Deferred.unsafeMake(undefined as never))
    return map.get(job)!
  }
  const process = (job: string) =>
    Deferred.succeed(get(started, job), undefined).pipe(
      Effect.zipRight(Deferred.await(get(gates, job))),
      Effect.zipRight(Effect.sync(() => done.push(job)))
    )
  return {
    done,
    process,
    started: (job: string) => Deferred.await(get(started, job)),
    finish: (job: string) => Deferred.succeed(get(gates, job), undefined)
  }
})

const start = <E>(options: WorkerPool.Options<string, E, never>) =>
  Effect.map(startWithLifecycle(WorkerPool.make(options)), ({ value, ...rest }) => ({ pool: value, ...rest }))

describe("WorkerPool", () => {
  it.effect("the classic deadlock: full queue, busy workers, blocked producer, then shutdown — nothing hangs", () =>
    Effect.gen(function*() {
      const jobs = yield* makeJobs
      const released: Array<string> = []
      const { close, pool } = yield* start({
        name: "carrier",
        concurrency: 1,
        capacity: 1,
        process: jobs.process,
        onShutdown: "release",
        onRelease: (items) => Effect.sync(() => released.push(...items))
      })
      assert.isTrue(yield* pool.offer("a"))
      yield* jobs.started("a") // the only worker is busy
      assert.isTrue(yield* pool.offer("b")) // the queue is full
      const producer = yield* Effect.fork(pool.offer("c"))
      yield* eventually(() => producer.unsafePoll() === null, "producer blocked")

      const closing = yield* close
      assert.isFalse(yield* Fiber.join(producer), "the blocked producer wakes up with false, not interrupted")
      assert.deepStrictEqual(released, ["b"], "the queued job goes back at once")
      assert.isNull(closing.unsafePoll(), "the in-flight job is still allowed to finish")

      yield* jobs.finish("a")
      yield* Fiber.join(closing)
      assert.deepStrictEqual(jobs.done, ["a"])
      assert.deepStrictEqual(yield* pool.stats, {
        queued: 0,
        inFlight: 0,
        completed: 1,
        failed: 0,
        released: 1,
        interrupted: 0
      })
    }))

  it.effect("offer returns false once draining began, before the pool's own finalizer runs", () =>
    Effect.gen(function*() {
      const jobs = yield* makeJobs
      const { lifecycle, pool } = yield* start({ name: "p", concurrency: 1, process: jobs.process })
      yield* lifecycle.beginDrain("SIGTERM")
      assert.isFalse(yield* pool.offer("late"))
      yield* eventually(() => true, "let the drain watcher run")
      assert.isFalse(yield* pool.offer("later"))
    }))

  it.effect("finish mode: queued jobs are processed before the workers stop", () =>
    Effect.gen(function*() {
      const jobs = yield* makeJobs
      const { close, pool } = yield* start({ name: "p", concurrency: 1, capacity: 5, process: jobs.process })
      yield* Effect.forEach(["a", "b", "c"], (job) => pool.offer(job))
      yield* jobs.started("a")
      const closing = yield* close
      yield* Effect.forEach(["a", "b", "c"], (job) => jobs.finish(job))
      yield* Fiber.join(closing)
      assert.deepStrictEqual(jobs.done, ["a", "b", "c"])
    }))

  it.effect("at the deadline in-flight jobs are interrupted, named, and released", () =>
    Effect.gen(function*() {
      const jobs = yield* makeJobs
      const released: Array<string> = []
      const { close, logs, pool } = yield* start({
        name: "carrier",
        concurrency: 2,
        process: jobs.process,
        shutdownTimeout: "30 seconds",
        describe: (job) => `order ${job}`,
        onRelease: (items) => Effect.sync(() => released.push(...items))
      })
      yield* pool.offer("1")
      yield* pool.offer("2")
      yield* jobs.started("1")
      yield* jobs.started("2")
      yield* jobs.finish("1")
      const closing = yield* close
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(closing)
      assert.deepStrictEqual(jobs.done, ["1"])
      assert.deepStrictEqual(released, ["2"])
      assert.match(logs.text(), /deadline of 30s passed, interrupting 1 job\(s\): order 2/)
      assert.deepInclude(yield* pool.stats, { completed: 1, interrupted: 1, inFlight: 0 })
    }))

  it.effect("a failing job is logged and counted; the worker goes on; submit reports the outcome", () =>
    Effect.gen(function*() {
      const { logs, pool } = yield* start({
        name: "p",
        concurrency: 1,
        process: (job: string) => job === "bad" ? Effect.fail(`cannot book ${job}`) : Effect.void
      })
      const failure = yield* Effect.flip(pool.submit("bad"))
      assert.strictEqual(failure, "cannot book bad")
      yield* pool.submit("good")
      assert.deepInclude(yield* pool.stats, { completed: 1, failed: 1 })
      assert.match(logs.text(), /job bad failed/)
    }))
})
