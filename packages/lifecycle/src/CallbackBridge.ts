/**
 * Feeds a {@link WorkerPool} from a third-party library that calls us back once per event and waits
 * for the returned promise (a message consumer, a webhook SDK, a long-poll client).
 *
 * The promise is the back-pressure: it resolves once the event is admitted (or processed, if so
 * configured), so a full pool slows the library down instead of buffering without bound. Once the
 * service drains, it rejects with a {@link ShuttingDownError}, so the library keeps the event and
 * delivers it again later — to this process after a restart, or to another replica.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { Lifecycle, ShuttingDown } from "./Lifecycle.js"
import * as LifecycleMetrics from "./LifecycleMetrics.js"
import type { WorkerPool } from "./WorkerPool.js"

const outcomeLabels = LifecycleMetrics.labelsBy({}, "outcome")

/**
 * The plain `Error` a rejected callback promise carries. Libraries see an ordinary error with a
 * clear message; `code` lets them (or tests) tell it apart.
 *
 * @since 0.1.0
 */
export class ShuttingDownError extends Error {
  readonly code = "SHUTTING_DOWN"
  constructor(message: string) {
    super(message)
    this.name = "ShuttingDownError"
  }
}

/**
 * @since 0.1.0
 */
export interface Options {
  /**
   * When the promise resolves: `"admitted"` (default) once a worker slot or queue place took the
   * event; `"processed"` once a worker finished it, so a library that advances a cursor only on
   * success never skips an event that a crash lost from memory.
   */
  readonly resolveWhen?: "admitted" | "processed" | undefined
}

/**
 * Returns the callback to hand to the library. It stays usable only while the scope is open.
 *
 * @since 0.1.0
 */
export const make = <A, E>(
  pool: WorkerPool<A, E>,
  options: Options = {}
): Effect.Effect<(event: A) => Promise<void>, never, Lifecycle | Scope.Scope> =>
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    const runtime = yield* Effect.runtime<never>()
    let open = true
    yield* Effect.addFinalizer(() => Effect.sync(() => (open = false)))

    const refused = (message: string) => Effect.fail(new ShuttingDown({ component: "CallbackBridge", message }))
    const admit = (event: A): Effect.Effect<void, E | ShuttingDown> =>
      Effect.gen(function*() {
        if (!open || !(yield* lifecycle.isRunning)) return yield* refused("shutting down: event not accepted")
        if (options.resolveWhen === "processed") return yield* pool.submit(event)
        if (!(yield* pool.offer(event))) return yield* refused("shutting down: event not accepted")
      })

    const runExit = Runtime.runPromiseExit(runtime)
    return async (event: A) => {
      const exit = await runExit(admit(event))
      if (Exit.isSuccess(exit)) return LifecycleMetrics.callbackEvents.unsafeUpdate(1, outcomeLabels("admitted"))
      const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      if (failure instanceof ShuttingDown) {
        LifecycleMetrics.callbackEvents.unsafeUpdate(1, outcomeLabels("refused"))
        throw new ShuttingDownError(failure.message)
      }
      LifecycleMetrics.callbackEvents.unsafeUpdate(1, outcomeLabels("failed"))
      throw new Error(`event was not processed: ${String(failure ?? "interrupted or defect")}`)
    }
  })
