/**
 * Runs the built service exactly as production does — `node apps/shop/dist/main.js`, no wrapper —
 * on `@shop/process-harness`: signals, HTTP on 127.0.0.1 (`http.ts`), and its JSON log.
 *
 * Every handshake is a log line, a response or database state; waits are bounded and fail with
 * the child's output so a failure says what the service was doing.
 */
import type { CarrierApi } from "@shop/carrier-sim"
import { Child, HarnessError, type LogLine } from "@shop/process-harness"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Path from "node:path"
import { request, type Response } from "./http.js"

export { killLeftovers } from "@shop/process-harness/Leftovers"
export { tempDir } from "@shop/process-harness/TempDir"
export { assertInOrder, metric, request, tryConnect } from "./http.js"

export const repoRoot = Path.resolve(import.meta.dirname, "../../../..")
export const mainJs = Path.join(repoRoot, "apps/shop/dist/main.js")
export const carrierSimJs = Path.join(repoRoot, "apps/carrier-sim/dist/main.js")

/**
 * The shop's own lines. Embedded components annotate theirs (the in-process carrier simulator logs
 * its own "Listening on", "draining" and "http drain" lines with `service: "carrier-sim"`): a string
 * or RegExp given to `waitForLog` matches the shop's own lines only; a predicate sees every line.
 */
export const isOwn = (line: LogLine.LogLine) => line.annotations.service === undefined

export interface ShopProcess extends Child.Child {
  /** The port the server bound (`PORT=0`, read from the `Listening on` line). */
  readonly port: number
  /** Every line, embedded components' included. */
  readonly logs: () => ReadonlyArray<LogLine.LogLine>
  /** The messages of the shop's own lines, in order. */
  readonly messages: () => ReadonlyArray<string>
  /** stdout lines that were not JSON, and stderr. */
  readonly rawOutput: () => string
}

/**
 * Starts the service with `env` on top of `LOG_FORMAT=json`, `PORT=0` and `PATH` (nothing else is
 * inherited from the test process), and waits until it listens. SIGKILLed when the scope closes if
 * it still runs.
 */
export const start = (
  env: Record<string, string>,
  options: { readonly startBound?: Duration.DurationInput } = {}
): Effect.Effect<ShopProcess, HarnessError, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Child.start({
      name: "shop",
      script: mainJs,
      cwd: repoRoot,
      env: { LOG_FORMAT: "json", PORT: "0", ...env },
      own: isOwn
    })
    const listening = yield* child.waitForLog(/^Listening on http:\/\/[^:]+:\d+$/, options.startBound ?? "20 seconds")
    return {
      ...child,
      port: Number(/:(\d+)$/.exec(listening.message)![1]),
      logs: () => child.lines.slice(),
      messages: () => child.lines.filter(isOwn).map((line) => line.message),
      rawOutput: () => child.raw.map((line) => `${line}\n`).join("")
    }
  })

export interface CarrierSimProcess {
  readonly pid: number
  /** e.g. `http://127.0.0.1:40123`, read from its `carrier-sim: listening on …` line. */
  readonly url: string
  readonly port: number
  /** `GET /v1/stats`. */
  readonly stats: () => Effect.Effect<CarrierApi.Stats, HarnessError>
  /** `GET /v1/shipments/{id}`: the status and the JSON body. */
  readonly shipment: (shipmentId: string) => Effect.Effect<Response, HarnessError>
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** Everything it printed (its log is always `Logger.pretty`). */
  readonly output: () => string
}

/**
 * Starts the standalone carrier simulator as production would, `node apps/carrier-sim/dist/main.js`,
 * with `env` on top of `CARRIER_SIM_PORT=0`, `CARRIER_SIM_HOST=127.0.0.1` and `PATH`, and waits
 * until it listens. A process of its own, so it outlives a shop that is SIGKILLed and keeps its
 * stats across the shop's restart. SIGKILLed when the scope closes if it still runs.
 */
export const startCarrierSim = (
  env: Record<string, string> = {}
): Effect.Effect<CarrierSimProcess, HarnessError, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Child.start({
      name: "carrier-sim",
      script: carrierSimJs,
      cwd: repoRoot,
      env: { CARRIER_SIM_PORT: "0", CARRIER_SIM_HOST: "127.0.0.1", ...env }
    })
    const url = (yield* child.waitForOutput(/carrier-sim: listening on (http:\/\/\S+)/, "20 seconds"))[1]
    const port = Number(new URL(url).port)
    const output = () => child.raw.join("\n")
    const get = (path: string) =>
      request(port, "GET", path).pipe(
        Effect.mapError((error) =>
          new HarnessError({ message: `carrier-sim GET ${path} failed: ${error.message}\n${output()}` })
        )
      )
    return {
      pid: child.pid,
      url,
      port,
      stats: () =>
        get("/v1/stats").pipe(
          Effect.filterOrFail(
            (response) => response.status === 200,
            (response) => new HarnessError({ message: `carrier-sim /v1/stats: ${response.status} ${response.body}` })
          ),
          Effect.map((response) => response.json as CarrierApi.Stats)
        ),
      shipment: (shipmentId) => get(`/v1/shipments/${encodeURIComponent(shipmentId)}`),
      kill: child.kill,
      output
    }
  })
