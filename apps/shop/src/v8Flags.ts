/**
 * V8 settings of the service process, applied before any other module runs (`main.ts` imports this
 * first; in the bundle, everything before it is a lazily-run CommonJS wrapper).
 *
 * WebAssembly stays on V8's baseline compiler (Liftoff). The only WebAssembly here is the HTTP parser
 * of Node's built-in `fetch` (undici's llhttp), which the carrier SDK uses; V8 re-compiles its hot
 * functions with TurboFan on a worker thread, and Node's exit joins that thread. `perf` showed it
 * (`Pipeline::GenerateCodeForWasmFunction` running until `exit_group`): SIGTERM with 32 bookings in
 * flight spent 50–95 ms between "shutdown complete" and the process being gone; with this, 17–19 ms,
 * and bookings/s unchanged (92% of N/L).
 */
import * as V8 from "node:v8"

V8.setFlagsFromString("--liftoff-only")
