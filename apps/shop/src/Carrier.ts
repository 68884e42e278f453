/**
 * The carrier's SDK, pointed at `CARRIER_URL`, or — without it, the development default — at a
 * carrier simulator started in-process (`CarrierSimulator.ts`, loaded only then). Built before the
 * booking pool, so the simulator outlives the bookings in flight at shutdown.
 */
import { CarrierClient } from "@shop/carrier-client"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ShopConfig } from "./ShopConfig.js"

/** `NODE_ENV=production` without `CARRIER_URL` refuses to start rather than book on a simulator. */
const simulatorAllowed = Config.string("NODE_ENV").pipe(
  Config.withDefault("development"),
  Config.map((env) => env !== "production")
)

const simulatorUrl = Effect.gen(function*() {
  if (!(yield* simulatorAllowed)) {
    return yield* Effect.fail(
      ConfigError.MissingData(["CARRIER_URL"], "CARRIER_URL is required when NODE_ENV=production")
    )
  }
  const simulator = yield* Effect.promise(() => import("./CarrierSimulator.js"))
  const url = yield* simulator.start
  yield* Effect.log(`carrier: no CARRIER_URL, using the in-process simulator at ${url}`)
  return url
})

export class Carrier extends Context.Tag("shop/Carrier")<Carrier, {
  readonly client: CarrierClient
  readonly url: string
}>() {
  static readonly layer = Layer.scoped(
    Carrier,
    Effect.gen(function*() {
      const config = yield* ShopConfig
      const url = Option.isSome(config.carrierUrl) ? config.carrierUrl.value : yield* simulatorUrl
      return Carrier.of({
        url,
        client: new CarrierClient({ baseUrl: url, timeoutMs: Duration.toMillis(config.carrierTimeout) })
      })
    })
  )
}
