/**
 * The carrier's SDK, pointed at `CARRIER_URL`, or — without it, the development default — at a
 * carrier simulator started in-process. Built before the booking pool, so the simulator outlives
 * the bookings in flight at shutdown.
 */
import { CarrierClient } from "@shop/carrier-client"
import { CarrierSim } from "@shop/carrier-sim"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ShopConfig } from "./ShopConfig.js"

export class Carrier extends Context.Tag("shop/Carrier")<Carrier, {
  readonly client: CarrierClient
  readonly url: string
}>() {
  static readonly layer = Layer.unwrapEffect(Effect.gen(function*() {
    const config = yield* ShopConfig
    const make = (url: string) =>
      Carrier.of({
        url,
        client: new CarrierClient({ baseUrl: url, timeoutMs: Duration.toMillis(config.carrierTimeout) })
      })
    return Option.match(config.carrierUrl, {
      onSome: (url) => Layer.succeed(Carrier, make(url)),
      onNone: () =>
        Layer.effect(
          Carrier,
          Effect.map(CarrierSim, (sim) => make(sim.url)).pipe(
            Effect.tap((carrier) =>
              Effect.log(`carrier: no CARRIER_URL, using the in-process simulator at ${carrier.url}`)
            )
          )
        ).pipe(Layer.provide(CarrierSim.layerConfig))
    })
  }))
}
