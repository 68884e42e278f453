/**
 * The processes a drill runs, started exactly as production starts them (`@shop/process-harness`):
 *
 * - shop replicas, `node apps/shop/dist/main.js` with `LOG_FORMAT=json` and `PORT=0` (the port is
 *   read from the `Listening on …` line, then `/readyz` must answer 200);
 * - one standalone carrier simulator, `node apps/carrier-sim/dist/main.js`, a process of its own so
 *   that it outlives every shop the drill kills and its `/v1/stats` covers the whole drill.
 *
 * Every child is ours: it is signalled by its own handle (its PID), and SIGKILLed when the drill's
 * scope closes if it still runs. Each child's output is kept in memory and written to a log file.
 */
import { Child, Readiness } from "@shop/process-harness"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { asBenchError, type BenchError } from "../BenchError.js"

/** `apps/bench/dist/drills` → `apps/shop/dist/main.js`, `apps/carrier-sim/dist/main.js`. */
export const shopMainJs = fileURLToPath(new URL("../../../shop/dist/main.js", import.meta.url))
export const carrierSimMainJs = fileURLToPath(new URL("../../../carrier-sim/dist/main.js", import.meta.url))

export interface Replica extends Child.Child {
  /** `shop<slot>.<generation>`, e.g. `shop2.7`: slot 2, the 7th process started in the drill. */
  readonly name: string
  readonly slot: number
  readonly port: number
  /** `Date.now()` at the first `/readyz` that answered 200. */
  readonly readyAt: number
  readonly logFile: string
}

export interface CarrierSimProcess {
  readonly pid: number
  readonly url: string
  readonly port: number
  readonly output: () => string
  readonly exited: () => boolean
}

export interface ShopStart {
  readonly slot: number
  readonly generation: number
  /** On top of PATH, LOG_FORMAT=json, PORT=0, HOST=127.0.0.1. */
  readonly env: Record<string, string>
  readonly cwd: string
  readonly logDir: string
}

/** The shop's own lines, not an embedded component's (those carry a `service` annotation). */
const own = (line: { readonly annotations: Record<string, unknown> }) => line.annotations.service === undefined

/** Starts one shop replica and waits until it listens and `/readyz` answers 200 (30 s each at most). */
export const startShop = (options: ShopStart): Effect.Effect<Replica, BenchError, Scope.Scope> =>
  Effect.gen(function*() {
    const name = `shop${options.slot}.${options.generation}`
    let logFile = ""
    const child = yield* Child.start({
      name,
      script: shopMainJs,
      cwd: options.cwd,
      env: { ...options.env, LOG_FORMAT: "json", PORT: "0", HOST: "127.0.0.1" },
      logFile: (pid) => (logFile = Path.join(options.logDir, `${name}-pid${pid}.log`)),
      own
    })
    const listening = yield* child.waitForLog(/^Listening on http:\/\/[^:]+:\d+$/, "30 seconds")
    const port = Number(/:(\d+)$/.exec(listening.message)![1])
    const ready = yield* Readiness.waitReady(child, `http://127.0.0.1:${port}/readyz`, {
      bound: "30 seconds",
      interval: "25 millis"
    })
    const replica: Replica = {
      ...child,
      slot: options.slot,
      port,
      readyAt: child.spawnedAt + Duration.toMillis(ready),
      logFile
    }
    return replica
  }).pipe(asBenchError)

/**
 * Starts the standalone carrier simulator on a free port of 127.0.0.1 with `env` (CARRIER_SIM_*) and
 * waits for its `carrier-sim: listening on …` line.
 */
export const startCarrierSim = (
  env: Record<string, string>,
  cwd: string,
  logDir: string
): Effect.Effect<CarrierSimProcess, BenchError, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Child.start({
      name: "carrier-sim",
      script: carrierSimMainJs,
      cwd,
      env: { CARRIER_SIM_PORT: "0", CARRIER_SIM_HOST: "127.0.0.1", ...env },
      logFile: (pid) => Path.join(logDir, `carrier-sim-pid${pid}.log`)
    })
    const [, url] = yield* child.waitForOutput(/carrier-sim: listening on (http:\/\/[\w.:[\]]+)/, "30 seconds")
    return {
      pid: child.pid,
      url,
      port: Number(new URL(url).port),
      output: () => child.raw.join("\n"),
      exited: () => child.exited() !== undefined
    }
  }).pipe(asBenchError)
