/**
 * What tests of the shop share whatever layer they run on: the order they place, bounded polling,
 * waiting for a worker's start-up tick, and a raw HTTP call for what a typed client cannot send.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import { ShopApi } from "@shop/domain/Api"
import type { PeriodicWorker } from "@shop/lifecycle"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"

export const anOrder = (email = "ada@example.com") => ({
  email,
  items: [{ sku: "TEA-GREEN-250", quantity: 2, unitPriceCents: 450 }, {
    sku: "MUG-1",
    quantity: 1,
    unitPriceCents: 1200
  }]
})

/** Polls `check` until it holds, `every` (20 ms) up to `bound` (250) times; fails with `what` otherwise. */
export const eventually = <A, E, R>(
  check: Effect.Effect<A, E, R>,
  holds: (a: A) => boolean,
  what: string,
  options: { readonly bound?: number; readonly every?: Duration.DurationInput } = {}
) =>
  check.pipe(
    Effect.filterOrFail(holds, () => new Error(`never happened: ${what}`)),
    Effect.retry(
      Schedule.spaced(options.every ?? "20 millis").pipe(Schedule.intersect(Schedule.recurs(options.bound ?? 250)))
    )
  )

/** Waits for a worker's start-up tick, so a test's rows are not claimed by it. */
export const firstTick = (worker: PeriodicWorker.PeriodicWorker) =>
  Effect.repeat(worker.stats, { until: (stats) => stats.ticks >= 1, schedule: Schedule.spaced("5 millis") })

export interface RawResponse {
  readonly status: number
  readonly headers: Headers
  /** Parsed JSON, or the text when it is not JSON: decode it (`errorBody`) before reading fields. */
  readonly body: unknown
}

/** One request with `fetch`: a string body is sent as is, anything else as JSON. */
export const call = (
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Effect.Effect<RawResponse> =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: keep the text, the test will say so
    }
    return { status: response.status, headers: response.headers, body: parsed }
  })

/** Every error the shop sends has a tag and a message saying what is wrong; anything else throws. */
export const ErrorBody = Schema.Struct({ _tag: Schema.String, message: Schema.String })

export const errorBody = Schema.decodeUnknownSync(ErrorBody)

/** The `id` of a created resource in a raw response; throws when there is none. */
export const idOf = (response: RawResponse) =>
  Schema.decodeUnknownSync(Schema.Struct({ id: Schema.Number }))(response.body).id

/** A typed client of the contract for the shop at `baseUrl`, with `baseUrl` for what it cannot send. */
export const clientFor = (baseUrl: string) =>
  HttpApiClient.make(ShopApi, { baseUrl }).pipe(
    Effect.map((client) => Object.assign(client, { baseUrl })),
    Effect.provide(FetchHttpClient.layer)
  )

export type ShopClient = Effect.Effect.Success<ReturnType<typeof clientFor>>

/** `GET /metrics` as text (the contract declares it a string). */
export const metricsText = (baseUrl: string) => Effect.flatMap(clientFor(baseUrl), (client) => client.ops.metrics())
