/**
 * Each component reports through `effect/Metric`: the values an exporter would read move as the
 * component works. Metrics live in one registry per process, so each test uses names of its own and
 * compares gauges with their value before it started.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import type * as MetricLabel from "effect/MetricLabel"
import * as TestClock from "effect/TestClock"
import * as Http from "node:http"
import * as BackgroundTasks from "../src/BackgroundTasks.js"
import * as CallbackBridge from "../src/CallbackBridge.js"
import * as GracefulHttp from "../src/GracefulHttp.js"
import * as LifecycleMetrics from "../src/LifecycleMetrics.js"
import * as PeriodicWorker from "../src/PeriodicWorker.js"
import * as WorkerPool from "../src/WorkerPool.js"
import { eventually, startWithLifecycle } from "./utils.js"

const tagged = (labels: Readonly<Record<string, string>>) => LifecycleMetrics.labels(labels)
const gauge = (metric: Metric.Metric.Gauge<number>, labels: ReadonlyArray<MetricLabel.MetricLabel> = []) =>
  metric.unsafeValue(labels).value
const histogram = (metric: Metric.Metric.Histogram<number>, labels: ReadonlyArray<MetricLabel.MetricLabel>) =>
  metric.unsafeValue(labels)
const counter = (metric: Metric.Metric.Counter<number>, labels: ReadonlyArray<MetricLabel.MetricLabel>) =>
  metric.unsafeValue(labels).count

describe("LifecycleMetrics", () => {
  it.effect("PeriodicWorker: tick durations by outcome, timed on the Effect clock", () =>
    Effect.gen(function*() {
      let calls = 0
      const { close } = yield* startWithLifecycle(PeriodicWorker.make({
        name: "metrics-worker",
        interval: "10 seconds",
        tick: Effect.suspend(() => ++calls === 1 ? Effect.sleep("2 seconds") : Effect.fail("boom"))
      }))
      yield* TestClock.adjust("2 seconds") // the first tick ends
      yield* TestClock.adjust("10 seconds") // the second one fails at once
      const ok = histogram(LifecycleMetrics.tickDuration, tagged({ worker: "metrics-worker", outcome: "ok" }))
      const failed = histogram(LifecycleMetrics.tickDuration, tagged({ worker: "metrics-worker", outcome: "failed" }))
      assert.strictEqual(ok.count, 1)
      assert.strictEqual(ok.sum, 2)
      assert.strictEqual(failed.count, 1)
      assert.strictEqual(failed.sum, 0)
      yield* Fiber.join(yield* close)
    }))

  it.effect("WorkerPool: queue depth, active jobs, job durations and released jobs", () =>
    Effect.gen(function*() {
      const pool = tagged({ pool: "metrics-pool" })
      const gate = yield* Deferred.make<void>()
      const { close, value } = yield* startWithLifecycle(WorkerPool.make({
        name: "metrics-pool",
        concurrency: 1,
        capacity: 2,
        onShutdown: "release",
        process: (job: number) =>
          job === 1 ? Effect.zipRight(Effect.sleep("3 seconds"), Deferred.await(gate)) : Effect.void
      }))
      yield* value.offer(1)
      yield* value.offer(2)
      yield* value.offer(3)
      yield* eventually(() => gauge(LifecycleMetrics.poolActiveJobs, pool) === 1, "job 1 started")
      assert.strictEqual(gauge(LifecycleMetrics.poolQueueDepth, pool), 2)

      yield* TestClock.adjust("3 seconds")
      const closing = yield* close // queued jobs 2 and 3 are given back; job 1 finishes
      yield* eventually(() => counter(LifecycleMetrics.poolReleasedJobs, pool) === 2, "queued jobs released")
      assert.strictEqual(gauge(LifecycleMetrics.poolQueueDepth, pool), 0)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(closing)
      assert.strictEqual(gauge(LifecycleMetrics.poolActiveJobs, pool), 0)
      const ok = histogram(LifecycleMetrics.poolJobDuration, tagged({ pool: "metrics-pool", outcome: "ok" }))
      assert.strictEqual(ok.count, 1)
      assert.strictEqual(ok.sum, 3)
    }))

  it.effect("BackgroundTasks: running tasks and outcomes, refusals after close included", () =>
    Effect.gen(function*() {
      const before = {
        active: gauge(LifecycleMetrics.backgroundTasksActive),
        completed: counter(LifecycleMetrics.backgroundTasks, tagged({ outcome: "completed" })),
        refused: counter(LifecycleMetrics.backgroundTasks, tagged({ outcome: "refused" }))
      }
      const { close, value: tasks } = yield* startWithLifecycle(BackgroundTasks.make())
      yield* tasks.run("email", Effect.sleep("1 second"))
      assert.strictEqual(gauge(LifecycleMetrics.backgroundTasksActive) - before.active, 1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(yield* close)
      yield* Effect.exit(tasks.run("late", Effect.void))
      assert.strictEqual(gauge(LifecycleMetrics.backgroundTasksActive) - before.active, 0)
      assert.strictEqual(
        counter(LifecycleMetrics.backgroundTasks, tagged({ outcome: "completed" })) - before.completed,
        1
      )
      assert.strictEqual(counter(LifecycleMetrics.backgroundTasks, tagged({ outcome: "refused" })) - before.refused, 1)
    }))

  it.effect("Lifecycle: the current phase, and each shutdown step's and phase's duration", () =>
    Effect.gen(function*() {
      const { close, lifecycle } = yield* startWithLifecycle(Effect.void)
      assert.strictEqual(gauge(LifecycleMetrics.phase, tagged({ phase: "running" })), 1)
      yield* lifecycle.beginDrain("test")
      assert.strictEqual(gauge(LifecycleMetrics.phase, tagged({ phase: "running" })), 0)
      assert.strictEqual(gauge(LifecycleMetrics.phase, tagged({ phase: "draining" })), 1)
      yield* TestClock.adjust("1 second")
      const step = yield* Effect.fork(lifecycle.step("metrics step")(Effect.sleep("2 seconds")))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(step)
      assert.strictEqual(gauge(LifecycleMetrics.shutdownStepDuration, tagged({ step: "metrics step" })), 2)
      yield* lifecycle.beginStopping
      assert.strictEqual(gauge(LifecycleMetrics.shutdownPhaseDuration, tagged({ phase: "draining" })), 3)
      yield* Fiber.join(yield* close)
    }))

  it.live("GracefulHttp: requests in flight and open connections", () =>
    Effect.gen(function*() {
      const before = {
        requests: gauge(LifecycleMetrics.httpActiveRequests),
        connections: gauge(LifecycleMetrics.httpOpenConnections)
      }
      const held: Array<Http.ServerResponse> = []
      const { close, value: context } = yield* startWithLifecycle(GracefulHttp.make({ port: 0, host: "127.0.0.1" }))
      const http = Context.get(context, GracefulHttp.GracefulHttp)
      yield* startListening(http, (_request, response) => held.push(response))
      const agent = new Http.Agent({ keepAlive: true })
      const answered = Effect.promise(() =>
        new Promise<number>((resolve, reject) =>
          Http.get({ host: "127.0.0.1", port: http.port, path: "/", agent }, (response) => {
            response.resume()
            response.on("end", () => resolve(response.statusCode ?? 0))
          }).on("error", reject)
        )
      )
      const request = yield* Effect.fork(answered)
      yield* eventually(() => held.length === 1, "the request arrived")
      assert.strictEqual(gauge(LifecycleMetrics.httpActiveRequests) - before.requests, 1)
      assert.strictEqual(gauge(LifecycleMetrics.httpOpenConnections) - before.connections, 1)

      held[0].end("done")
      assert.strictEqual(yield* Fiber.join(request), 200)
      yield* eventually(() => gauge(LifecycleMetrics.httpActiveRequests) === before.requests, "the request ended")
      assert.strictEqual(gauge(LifecycleMetrics.httpOpenConnections) - before.connections, 1, "kept alive")
      agent.destroy()
      yield* eventually(() => gauge(LifecycleMetrics.httpOpenConnections) === before.connections, "connection closed")
      yield* Fiber.join(yield* close)
    }))

  it.live("CallbackBridge: events admitted, and refused once the service drains", () =>
    Effect.gen(function*() {
      const admitted = () => counter(LifecycleMetrics.callbackEvents, tagged({ outcome: "admitted" }))
      const refused = () => counter(LifecycleMetrics.callbackEvents, tagged({ outcome: "refused" }))
      const before = { admitted: admitted(), refused: refused() }
      const { lifecycle, value: callback } = yield* startWithLifecycle(Effect.flatMap(
        WorkerPool.make({ name: "metrics-bridge", concurrency: 1, capacity: 4, process: (_: number) => Effect.void }),
        (pool) => CallbackBridge.make(pool)
      ))
      yield* Effect.promise(() => callback(1))
      yield* lifecycle.beginDrain("test")
      yield* Effect.promise(() => callback(2).catch(() => undefined))
      assert.strictEqual(admitted() - before.admitted, 1)
      assert.strictEqual(refused() - before.refused, 1)
    }))
})

const startListening = (http: GracefulHttp.GracefulHttpService, handler: GracefulHttp.NodeHandler) =>
  Effect.sync(() => http.server.on("request", handler))

describe("LifecycleMetrics.labelSets", () => {
  const pairs = (labels: ReadonlyArray<MetricLabel.MetricLabel>) => labels.map(({ key, value }) => [key, value])

  it("one label array per combination, the same array each time (Effect finds a series by it)", () => {
    const labelsOf = LifecycleMetrics.labelSets(["method", "route", "status"])
    const first = labelsOf("GET", "/v1/orders/:id", "200")
    assert.strictEqual(labelsOf("GET", "/v1/orders/:id", "200"), first)
    assert.deepStrictEqual(pairs(first), [["method", "GET"], ["route", "/v1/orders/:id"], ["status", "200"]])
    assert.notStrictEqual(labelsOf("GET", "/v1/orders/:id", "404"), first)
    // an undefined value leaves its label out (an unmatched request has no http.route)
    assert.deepStrictEqual(pairs(labelsOf("GET", undefined, "404")), [["method", "GET"], ["status", "404"]])
  })

  it("values are never confused, whatever characters they hold", () => {
    const labelsOf = LifecycleMetrics.labelSets(["a", "b"])
    const one = labelsOf("x\u0000y", "z")
    const two = labelsOf("x", "y\u0000z")
    assert.notStrictEqual(one, two)
    assert.deepStrictEqual(pairs(two), [["a", "x"], ["b", "y\u0000z"]])
  })
})
