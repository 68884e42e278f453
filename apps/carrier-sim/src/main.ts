/**
 * The standalone simulator: `node apps/carrier-sim/dist/main.js` (configured by `CARRIER_SIM_*`).
 * SIGTERM/SIGINT drain it: open long polls are answered at once with an empty list.
 */
import { CarrierSim } from "@shop/carrier-sim"
import { Launch } from "@shop/lifecycle"
import * as Layer from "effect/Layer"

Launch.runMain(CarrierSim.layerMain.pipe(Layer.discard), { shutdownTimeout: "10 seconds" })
