/**
 * The drill's shop replicas, one slot each: started (again) into empty slots, signalled and
 * recorded, and the ones that serve (running, or draining after SIGTERM; a SIGKILLed one is gone at
 * once).
 */
import * as Effect from "effect/Effect"
import * as Finish from "./Finish.js"
import type * as Invariants from "./Invariants.js"
import { type Replica, startShop } from "./Processes.js"

export interface PoolOptions {
  readonly replicas: number
  readonly env: Record<string, string>
  readonly cwd: string
  readonly logDir: string
}

export const make = (options: PoolOptions) => {
  const slots: Array<Replica | undefined> = Array.from({ length: options.replicas }, () => undefined)
  const everyReplica: Array<Replica> = []
  const shutdowns: Array<Invariants.Shutdown> = []
  const startsMs: Array<number> = []
  let generation = 0

  const start = (slot: number) =>
    Effect.gen(function*() {
      const replica = yield* startShop({ ...options, slot, generation: ++generation })
      everyReplica.push(replica)
      startsMs.push(replica.readyAt - replica.spawnedAt)
      slots[slot] = replica
      return replica
    })
  /** Every empty slot (never started, or its replica exited) started, in parallel. */
  const ensure = Effect.suspend(() =>
    Effect.forEach(
      slots.flatMap((replica, slot) => (replica === undefined || replica.exited() ? [slot] : [])),
      start,
      { concurrency: "unbounded", discard: true }
    )
  )
  const live = () =>
    slots.filter((r): r is Replica => r !== undefined && !r.exited() && r.signalled()?.signal !== "SIGKILL")
  /** Signals one replica and waits for its exit (SIGKILL after the bound); records it, empties its slot. */
  const stop = (replica: Replica, signal: NodeJS.Signals, round: number | "final") =>
    Effect.tap(Finish.stop(replica, signal, round), (shutdown) =>
      Effect.sync(() => {
        shutdowns.push(shutdown)
        if (slots[replica.slot] === replica) slots[replica.slot] = undefined
      }))
  return { slots, everyReplica, shutdowns, startsMs, start, ensure, live, stop }
}

export type Pool = ReturnType<typeof make>
