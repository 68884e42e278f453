/**
 * Development only: the carrier simulator started in-process when `CARRIER_URL` is unset. `Carrier.ts`
 * loads this module with a dynamic `import()`, so the bundle keeps it (and the simulator) in a chunk
 * of its own that a shop given `CARRIER_URL`, as in production, never loads.
 */
import { CarrierSim } from "@shop/carrier-sim"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** Starts a simulator (configured by `CARRIER_SIM_*`) that runs until the scope closes; its base URL. */
export const start = Effect.map(Layer.build(CarrierSim.layerConfig), (context) => Context.get(context, CarrierSim).url)
