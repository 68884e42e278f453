/**
 * The shop as production runs it: `node apps/shop/dist/main.js`, a child process of its own
 * (`@shop/process-harness`), so SIGTERM, RSS and exit codes are the real ones. Its log lines go to
 * our stderr, prefixed.
 */
import { Child, FreePort, Readiness } from "@shop/process-harness"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { fileURLToPath } from "node:url"
import { asBenchError, BenchError } from "./BenchError.js"

/**
 * The shop's build output, found relative to this file (`apps/bench/{src,dist}` → `apps/shop/dist`);
 * `BENCH_SHOP_MAIN` points at another build instead (an A/B run of a copy with a proposed change).
 */
export const mainJs = process.env.BENCH_SHOP_MAIN?.trim() ||
  fileURLToPath(new URL("../../shop/dist/main.js", import.meta.url))

export type Exited = Child.Exited
export type Terminated = Child.Terminated

export interface ShopProcess {
  readonly name: string
  readonly pid: number
  readonly baseUrl: string
  /** Spawn until the first `GET /readyz` that answered 200. */
  readonly startToReady: Duration.Duration
  /** Resident set size now, in bytes; `None` once the process is gone. */
  readonly rss: Effect.Effect<Option.Option<number>>
  /** Sends SIGTERM and waits for the exit: how long it took and how it ended. */
  readonly terminate: (timeout: Duration.DurationInput) => Effect.Effect<Terminated, BenchError>
}

export interface StartOptions {
  readonly name: string
  /** The shop's whole environment (PORT and HOST are added). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly readyTimeout: Duration.DurationInput
  /** Sees every output line with `Date.now()` at its arrival. */
  readonly onLine?: ((line: string, receivedAt: number) => void) | undefined
  /** Copy the output to our stderr, prefixed with the name (default). `false`: `onLine` decides. */
  readonly echo?: boolean | undefined
  /** What `node` runs (default {@link mainJs}): a peer of the shop (`peers/Peers.ts`) starts the same way. */
  readonly script?: string | undefined
  /** Run on these cores only (`taskset -c`, e.g. "0"); see `compare/Pinning.ts`. Default: any core. */
  readonly cpus?: string | undefined
}

export const freePort = asBenchError(FreePort.freePort)

/**
 * Spawns the shop and waits until `/readyz` answers 200 (probed every 10 ms: the start → ready
 * figure is read to this precision). Closing the scope stops a shop that is still running: SIGTERM,
 * then SIGKILL after 30 seconds.
 */
export const start = Effect.fn("ShopProcess.start")(function*(
  options: StartOptions
): Effect.fn.Return<ShopProcess, BenchError, Scope.Scope> {
  const port = yield* freePort
  const baseUrl = `http://127.0.0.1:${port}`
  const child = yield* asBenchError(Child.start({
    name: options.name,
    script: options.script ?? mainJs,
    cwd: options.cwd,
    env: { ...options.env, PORT: String(port), HOST: "127.0.0.1" },
    cpus: options.cpus,
    onLine: options.onLine,
    echo: options.echo === false ? undefined : options.name,
    terminateOnRelease: "30 seconds"
  }))
  const startToReady = yield* asBenchError(
    Readiness.waitReady(child, `${baseUrl}/readyz`, { bound: options.readyTimeout })
  )
  return {
    name: options.name,
    pid: child.pid,
    baseUrl,
    startToReady,
    rss: child.rss,
    terminate: (timeout) => asBenchError(child.terminate(timeout))
  }
})
