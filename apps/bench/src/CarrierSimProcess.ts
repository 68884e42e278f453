/**
 * The standalone carrier simulator, `node apps/carrier-sim/dist/main.js`, as a child process of its
 * own (so its CPU is its own and it never competes with the shop's event loop), on a free port of
 * 127.0.0.1. Its URL is read from its `carrier-sim: listening on …` line; its log lines go to our
 * stderr, prefixed.
 */
import { Child } from "@shop/process-harness"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { fileURLToPath } from "node:url"
import { asBenchError, BenchError } from "./BenchError.js"
import * as HttpGet from "./HttpGet.js"

/** The simulator's build output, relative to this file (`apps/bench/{src,dist}` → `apps/carrier-sim/dist`). */
export const mainJs = fileURLToPath(new URL("../../carrier-sim/dist/main.js", import.meta.url))

/** `GET /v1/stats` (the fields the bench reads). */
export interface Stats {
  readonly shipments: number
  readonly bookingsByKey: Readonly<Record<string, number>>
  readonly requests: {
    readonly pending: number
    readonly booked: number
    readonly replayed: number
    readonly failed: number
    readonly rejected: number
  }
}

export interface CarrierSimProcess {
  readonly pid: number
  /** e.g. `http://127.0.0.1:40123` */
  readonly url: string
  readonly stats: Effect.Effect<Stats, BenchError>
}

export interface StartOptions {
  readonly name: string
  readonly cwd: string
  /** `CARRIER_SIM_*` settings; `CARRIER_SIM_PORT=0` and `CARRIER_SIM_HOST=127.0.0.1` are added. */
  readonly settings: Readonly<Record<string, string>>
}

/** Spawns the simulator and waits until it listens; closing the scope stops it (SIGTERM, SIGKILL after 15 s). */
export const start = Effect.fn("CarrierSimProcess.start")(function*(
  options: StartOptions
): Effect.fn.Return<CarrierSimProcess, BenchError, Scope.Scope> {
  const child = yield* asBenchError(Child.start({
    name: options.name,
    script: mainJs,
    cwd: options.cwd,
    // nothing of ours leaks in but PATH: a CARRIER_SIM_* in the bench's environment would change the figures
    env: { ...options.settings, CARRIER_SIM_PORT: "0", CARRIER_SIM_HOST: "127.0.0.1" },
    echo: options.name,
    terminateOnRelease: "15 seconds"
  }))
  const [, url] = yield* asBenchError(child.waitForOutput(/carrier-sim: listening on (http:\/\/\S+)/, "30 seconds"))
  const stats = HttpGet.get(`${url}/v1/stats`).pipe(
    Effect.flatMap(({ body, status }) =>
      status === 200
        ? Effect.try({
          try: () => JSON.parse(body) as Stats,
          catch: (cause) => new BenchError({ message: `${options.name} /v1/stats: not JSON`, cause })
        })
        : new BenchError({ message: `${options.name} /v1/stats answered ${status}: ${body}` })
    )
  )
  return { pid: child.pid, url, stats }
})
