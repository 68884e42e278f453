/**
 * How a drill ends, the same for every drill: a replica stopped and its exit recorded, the shop left
 * to go quiet, the simulator's final stats.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { BenchError } from "../BenchError.js"
import * as Invariants from "./Invariants.js"
import type { Replica } from "./Processes.js"

/** SHUTDOWN_TIMEOUT of every replica. */
export const shutdownTimeoutMs = 10_000

/** Signals `replica` and waits for its exit (SIGKILL after the bound); what happened. */
export const stop = (replica: Replica, signal: NodeJS.Signals, round: number | "final") =>
  Effect.gen(function*() {
    yield* replica.kill(signal)
    const sentAt = replica.signalled()!.at
    const bound = signal === "SIGTERM" ? shutdownTimeoutMs + 5_000 : 5_000
    const exit = yield* Effect.promise(() => replica.exit).pipe(Effect.timeout(bound), Effect.option)
    if (Option.isNone(exit)) {
      yield* replica.kill("SIGKILL")
      yield* Effect.promise(() => replica.exit)
    }
    const exited = replica.exited()!
    const shutdown: Invariants.Shutdown = {
      round,
      replica: replica.name,
      pid: replica.pid,
      signal,
      code: exited.code,
      exitSignal: exited.signal,
      tookMs: Option.isSome(exit) ? replica.exitedAt()! - sentAt : undefined,
      shopSays: replica.lines.find((line) =>
        /^shutdown complete in|deadline of .* exceeded|exits? at once/.test(line.message)
      )?.message
    }
    return shutdown
  })

/** Polls every 250 ms until nothing is in flight (no busy order, no lease, no unsent e-mail) or `boundMs`. */
export const waitQuiet = (sql: PgClient.PgClient, boundMs: number) =>
  Effect.gen(function*() {
    const quietStart = Date.now()
    const readState = Invariants.quietState(sql).pipe(
      Effect.mapError((cause) => new BenchError({ message: `quiet wait: ${cause.message}`, cause }))
    )
    let state = yield* readState
    while ((state.busy > 0 || state.leased > 0 || state.unsent > 0) && Date.now() - quietStart < boundMs) {
      yield* Effect.sleep("250 millis")
      state = yield* readState
    }
    const quiet: Invariants.Quiet = {
      reached: state.busy === 0 && state.leased === 0 && state.unsent === 0,
      afterMs: Date.now() - quietStart,
      state
    }
    return quiet
  })

/** `GET /v1/stats` of the drill's simulator. */
export const simStats = (url: string) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`${url}/v1/stats`, { signal: AbortSignal.timeout(5000) })
      if (response.status !== 200) throw new Error(`status ${response.status}`)
      return (await response.json()) as Invariants.SimStats
    },
    catch: (cause) => new BenchError({ message: `carrier-sim /v1/stats failed: ${String(cause)}`, cause })
  })
