/**
 * HTTP load with autocannon's programmatic API: a warm-up run (discarded), then the measured run.
 * Each request is built by `setupRequest`, so every POST is a different order and GETs rotate over ids.
 */
import autocannon from "autocannon"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { BenchError } from "./BenchError.js"

export interface LoadOptions {
  readonly baseUrl: string
  readonly connections: number
  readonly warmup: Duration.Duration
  readonly duration: Duration.Duration
}

export interface LoadResult {
  readonly title: string
  readonly requests: number
  /** Mean of autocannon's per-second samples. */
  readonly requestsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  /** e.g. `201×41234` (what the non-2xx were, when there were any). */
  readonly statuses: string
}

const run = (options: autocannon.Options): Effect.Effect<autocannon.Result, BenchError> =>
  Effect.async((resume) => {
    const instance = autocannon(options, (error, result) =>
      resume(
        error
          ? Effect.fail(new BenchError({ message: `autocannon failed: ${String(error)}`, cause: error }))
          : Effect.succeed(result)
      ))
    return Effect.sync(() => instance.stop())
  })

const seconds = (d: Duration.Duration) => Math.max(1, Math.round(Duration.toSeconds(d)))

const summarize = (title: string, result: autocannon.Result): LoadResult => ({
  title,
  requests: result.requests.total,
  requestsPerSecond: result.requests.mean,
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statuses: Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => `${status}×${count ?? 0}`).join(
    ", "
  )
})

const base = (options: LoadOptions, request: autocannon.Request): autocannon.Options => ({
  url: options.baseUrl,
  connections: options.connections,
  pipelining: 1,
  timeout: 10,
  headers: { "content-type": "application/json" },
  requests: [request]
})

/** The same request mix for `options.warmup`; the figures are discarded. */
export const warmUp = (
  title: string,
  options: LoadOptions,
  request: autocannon.Request
): Effect.Effect<void, BenchError> =>
  Duration.greaterThan(options.warmup, Duration.zero)
    ? Effect.zipRight(
      Effect.sync(() => console.log(`${title}: warm-up ${Duration.format(options.warmup)}`)),
      run({ ...base(options, request), duration: seconds(options.warmup) })
    )
    : Effect.void

/** The measured run, `options.duration` long. */
export const measure = (
  title: string,
  options: LoadOptions,
  request: autocannon.Request
): Effect.Effect<LoadResult, BenchError> =>
  Effect.gen(function*() {
    yield* Effect.sync(() =>
      console.log(`${title}: measuring ${Duration.format(options.duration)}, ${options.connections} connections`)
    )
    const result = summarize(title, yield* run({ ...base(options, request), duration: seconds(options.duration) }))
    yield* Effect.sync(() =>
      console.log(
        `${title}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ` +
          `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts} (${result.statuses})`
      )
    )
    return result
  })

/** A valid `POST /v1/orders` body with 1–3 lines. */
export const orderBody = (n: number): string => {
  const lines = 1 + (n % 3)
  return JSON.stringify({
    email: `bench${n}@example.com`,
    items: Array.from({ length: lines }, (_, i) => ({
      sku: `BENCH-${(n + i) % 500}`,
      quantity: 1 + ((n + i) % 5),
      unitPriceCents: 100 + ((n * 7 + i) % 9900)
    }))
  })
}

/** `POST /v1/orders`, each request a different order. */
export const createOrders = (): autocannon.Request => {
  let n = 0
  return {
    method: "POST",
    path: "/v1/orders",
    setupRequest: (request) => ({ ...request, body: orderBody(n++) })
  }
}

/** `GET /v1/orders/{id}`, rotating over `ids`. */
export const getOrders = (ids: ReadonlyArray<number>): autocannon.Request => {
  let i = 0
  return {
    method: "GET",
    path: `/v1/orders/${ids[0]}`,
    setupRequest: (request) => ({ ...request, path: `/v1/orders/${ids[i++ % ids.length]}` })
  }
}
