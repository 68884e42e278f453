/**
 * A slow external carrier service: idempotent bookings and a long-polling tracking feed.
 */
export * as CarrierApi from "./Api.js"
export { CarrierSim } from "./CarrierSim.js"
export type { CarrierSimService, RunningCarrierSim, StartOptions } from "./CarrierSim.js"
export * as CarrierErrors from "./Errors.js"
export type { Options } from "./Settings.js"
