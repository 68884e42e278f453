import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type * as Scope from "effect/Scope"
import type { Stats } from "../src/Api.js"
import { CarrierSim, type CarrierSimService } from "../src/CarrierSim.js"
import type { Options } from "../src/Settings.js"

/** Fast defaults: tests that need latency ask for it. */
export const fast: Options = { latency: 0, jitter: 0, inTransitAfter: "20 millis", deliveredAfter: "40 millis" }

/** A simulator on a free port for the current scope. */
export const startSim = (options: Options = {}): Effect.Effect<CarrierSimService, never, Scope.Scope> =>
  Layer.build(CarrierSim.layer({ ...fast, ...options })).pipe(
    Effect.map(Context.get(CarrierSim)),
    Effect.orDie,
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )

export interface Reply {
  readonly status: number
  readonly body: any
  readonly ms: number
}

export const request = (url: string, init: RequestInit = {}): Effect.Effect<Reply> =>
  Effect.promise(async () => {
    const started = performance.now()
    const response = await fetch(url, init)
    const text = await response.text()
    return {
      status: response.status,
      body: text === "" ? undefined : JSON.parse(text),
      ms: performance.now() - started
    }
  })

export const order = (orderId: number) => ({
  orderId,
  email: `buyer${orderId}@example.com`,
  items: [{ sku: "sku-1", quantity: 2 }]
})

export const book = (sim: CarrierSimService, body: unknown, key?: string, init: RequestInit = {}) =>
  request(`${sim.url}/v1/shipments`, {
    ...init,
    method: "POST",
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { "idempotency-key": key }) },
    body: JSON.stringify(body)
  })

export const poll = (sim: CarrierSimService, after: number, wait: number) =>
  request(`${sim.url}/v1/events?after=${after}&wait=${wait}`)

/** Handshake with the server: re-reads its stats (a few ms apart, bounded) until `predicate` holds. */
export const until = (sim: CarrierSimService, predicate: (stats: Stats) => boolean, what: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 5_000
    while (Date.now() < deadline) {
      const stats = yield* sim.stats
      if (predicate(stats)) return stats
      yield* Effect.sleep(Duration.millis(2))
    }
    return yield* Effect.dieMessage(`never happened: ${what}`)
  })
