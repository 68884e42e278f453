/**
 * V8 settings of the service process, applied before any other module runs (`main.ts` imports this
 * first; in the bundle, everything before it is a lazily-run CommonJS wrapper).
 *
 * WebAssembly stays on V8's baseline compiler (Liftoff): the only WebAssembly here is the HTTP parser
 * of Node's built-in `fetch` (the carrier SDK's), and the TurboFan re-compilation of it runs on a
 * worker thread that Node's exit has to join, which delayed every exit after a busy shutdown. The
 * measurements are in apps/bench/README.md ("Carrier, row 6").
 */
import * as V8 from "node:v8"

V8.setFlagsFromString("--liftoff-only")
