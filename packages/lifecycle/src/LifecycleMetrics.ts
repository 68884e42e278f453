/**
 * What the lifecycle components report, as `effect/Metric` metrics: any exporter that reads Effect's
 * metric registry (`@effect/opentelemetry`'s Prometheus bridge or OTLP exporter) gets them without
 * code. Durations are in seconds and their names end in `.duration`; names follow the OpenTelemetry
 * semantic conventions where one exists (`http.server.active_requests`).
 *
 * Every label value comes from code (a component's name, a fixed outcome), never from a request.
 * Components update them with `unsafeUpdate`/`unsafeModify` and label arrays made once, so a
 * request or a job pays a map lookup and an addition, and no fiber.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"

/**
 * Boundaries for the durations of ticks, jobs and requests, in seconds (those of the OpenTelemetry
 * HTTP conventions, stretched to 30 s for ticks and jobs).
 *
 * @since 0.1.0
 */
export const durationBoundaries = MetricBoundaries.fromIterable([
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
  30
])

/**
 * 1 for the phase the service is in (`running`, `draining`, `stopping`, `stopped`), 0 for the others.
 *
 * @since 0.1.0
 */
export const phase = Metric.gauge("lifecycle.phase", { description: "1 for the current lifecycle phase" })

/**
 * How long each phase of the shutdown took (`draining`, `stopping`), set when it ends.
 *
 * @since 0.1.0
 */
export const shutdownPhaseDuration = Metric.gauge("lifecycle.shutdown.phase.duration", {
  description: "Duration of each phase of the last shutdown, in seconds"
})

/**
 * How long each step of the shutdown took (`http drain`, `worker fulfillment`, `pool bookings`…),
 * set when it ends.
 *
 * @since 0.1.0
 */
export const shutdownStepDuration = Metric.gauge("lifecycle.shutdown.step.duration", {
  description: "Duration of each step of the last shutdown, in seconds"
})

/**
 * `PeriodicWorker` ticks by worker and outcome (`ok`, `failed`, `timeout`).
 *
 * @since 0.1.0
 */
export const tickDuration = Metric.histogram(
  "lifecycle.worker.tick.duration",
  durationBoundaries,
  "Duration of periodic worker ticks, in seconds"
)

/**
 * `WorkerPool` jobs waiting for a worker, by pool.
 *
 * @since 0.1.0
 */
export const poolQueueDepth = Metric.gauge("lifecycle.pool.queue.depth", {
  description: "Jobs queued in a worker pool, not started yet"
})

/**
 * `WorkerPool` jobs being processed, by pool.
 *
 * @since 0.1.0
 */
export const poolActiveJobs = Metric.gauge("lifecycle.pool.active_jobs", {
  description: "Jobs a worker pool is processing"
})

/**
 * `WorkerPool` jobs by pool and outcome (`ok`, `failed`, `interrupted`).
 *
 * @since 0.1.0
 */
export const poolJobDuration = Metric.histogram(
  "lifecycle.pool.job.duration",
  durationBoundaries,
  "Duration of worker pool jobs, in seconds"
)

/**
 * `WorkerPool` jobs given back unprocessed at shutdown (queued, or interrupted at the deadline), by pool.
 *
 * @since 0.1.0
 */
export const poolReleasedJobs = Metric.counter("lifecycle.pool.released_jobs", {
  description: "Jobs a worker pool gave back unprocessed at shutdown",
  incremental: true
})

/**
 * `BackgroundTasks` running now.
 *
 * @since 0.1.0
 */
export const backgroundTasksActive = Metric.gauge("lifecycle.background_tasks.active", {
  description: "Background tasks running"
})

/**
 * `BackgroundTasks` by outcome (`completed`, `failed`, `interrupted`, `refused`).
 *
 * @since 0.1.0
 */
export const backgroundTasks = Metric.counter("lifecycle.background_tasks", {
  description: "Background tasks by outcome",
  incremental: true
})

/**
 * Requests a `GracefulHttp` server is answering (OpenTelemetry's `http.server.active_requests`).
 *
 * @since 0.1.0
 */
export const httpActiveRequests = Metric.gauge("http.server.active_requests", {
  description: "HTTP requests being served"
})

/**
 * Open TCP connections of `GracefulHttp` servers.
 *
 * @since 0.1.0
 */
export const httpOpenConnections = Metric.gauge("lifecycle.http.open_connections", {
  description: "Open HTTP connections"
})

/**
 * `CallbackBridge` events by outcome (`admitted`, `refused` while shutting down, `failed`).
 *
 * @since 0.1.0
 */
export const callbackEvents = Metric.counter("lifecycle.callback.events", {
  description: "Events handed to a callback bridge, by outcome",
  incremental: true
})

/**
 * A label set made once: Effect caches a metric's series by the identity of the label array, so a
 * component keeps the arrays it updates with.
 *
 * @since 0.1.0
 */
export const labels = (tags: Readonly<Record<string, string>>): ReadonlyArray<MetricLabel.MetricLabel> =>
  Object.entries(tags).map(([key, value]) => MetricLabel.make(key, value))

/**
 * One label array per combination of values of `keys`, made on first use: `labelSets(["from", "to"])`
 * gives `(from, to) => labels`. An `undefined` value leaves its label out (OpenTelemetry's `http.route`
 * of an unmatched request).
 *
 * @since 0.1.0
 */
export const labelSets = <const Keys extends ReadonlyArray<string>>(
  keys: Keys
): (...values: { readonly [I in keyof Keys]: string | undefined }) => ReadonlyArray<MetricLabel.MetricLabel> => {
  // a tree of maps, one level per key: a lookup per request allocates nothing (no joined key string)
  const root = new Map<string | undefined, any>()
  return (...values) => {
    let node = root
    for (let i = 0; i < values.length - 1; i++) {
      let next = node.get(values[i])
      if (next === undefined) {
        next = new Map()
        node.set(values[i], next)
      }
      node = next
    }
    const last = values[values.length - 1]
    let found: ReadonlyArray<MetricLabel.MetricLabel> | undefined = node.get(last)
    if (found === undefined) {
      found = keys.flatMap((key, i) => values[i] === undefined ? [] : [MetricLabel.make(key, values[i]!)])
      node.set(last, found)
    }
    return found
  }
}

/**
 * One label array per value of a single label, next to fixed ones (a component's name), made on
 * first use (outcomes, phases, steps).
 *
 * @since 0.1.0
 */
export const labelsBy = (
  base: Readonly<Record<string, string>>,
  key: string
): (value: string) => ReadonlyArray<MetricLabel.MetricLabel> => {
  const sets = labelSets([...Object.keys(base), key])
  const fixed = Object.values(base)
  return (value) => sets(...fixed, value)
}
