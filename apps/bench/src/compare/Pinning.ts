/**
 * Server and load generator on different cores. On two cores, autocannon (in this process) ran at
 * 86–90 % of a core against Fastify: sharing cores with the server, it capped the very figure it
 * measured. Where `taskset` exists and there are at least two cores, servers run on core 0
 * (`serverCpus`, passed to `ShopProcess.start`) and this process on the others while the HTTP rows
 * run; PostgreSQL is left free, as in production.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Os from "node:os"

const taskset = (args: ReadonlyArray<string>) => ChildProcess.spawnSync("taskset", args, { stdio: "ignore" })

export interface Pinning {
  /** `cpus` for the servers' `ShopProcess.start`; `undefined` when not pinned. */
  readonly serverCpus: string | undefined
  /** How the HTTP rows ran, for the notes. */
  readonly description: string
}

/**
 * Pins this process (every thread: `-a`) to cores 1… for the scope, back to every core after it.
 */
export const pinned: Effect.Effect<Pinning, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync((): Pinning => {
    const cores = Os.cpus().length
    if (cores < 2 || taskset(["-V"]).status !== 0) {
      return { serverCpus: undefined, description: "not pinned (needs taskset and two cores)" }
    }
    const rest = cores === 2 ? "1" : `1-${cores - 1}`
    if (taskset(["-a", "-cp", rest, String(process.pid)]).status !== 0) {
      return { serverCpus: undefined, description: "not pinned (taskset -cp failed)" }
    }
    return {
      serverCpus: "0",
      description: `server on core 0, autocannon on core${cores === 2 ? "" : "s"} ${rest}, PostgreSQL on any`
    }
  }),
  (pinning) =>
    pinning.serverCpus === undefined
      ? Effect.void
      : Effect.sync(() => taskset(["-a", "-cp", `0-${Os.cpus().length - 1}`, String(process.pid)]))
)
