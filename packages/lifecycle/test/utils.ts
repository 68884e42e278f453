import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Scope from "effect/Scope"
import * as Lifecycle from "../src/Lifecycle.js"

/** Collects log lines (message plus pretty cause) so tests can assert what an operator would read. */
export const makeLogCapture = Effect.sync(() => {
  const lines: Array<string> = []
  const logger = Logger.make(({ cause, logLevel, message }) => {
    const parts = (Array.isArray(message) ? message : [message]).map((part) =>
      typeof part === "string" ? part : JSON.stringify(part)
    )
    const causeText = Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause)}`
    lines.push(`${logLevel.label} ${parts.join(" ")}${causeText}`)
  })
  const layer: Layer.Layer<never> = Logger.add(logger)
  const text = () => lines.join("\n")
  return { lines, layer, text }
})

/** Waits (without time passing) until `predicate` holds: a handshake with code running on other fibers. */
export const eventually = (predicate: () => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (predicate()) return
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
    }
    return yield* Effect.dieMessage(`never happened: ${what}`)
  })

/**
 * Runs `make` (a scoped constructor such as `PeriodicWorker.make`) in a scope of its own, with a fresh
 * Lifecycle and captured logs. `close` forks the scope's closing uninterruptibly, as `Layer.launch` does.
 */
export const startWithLifecycle = <A, E, R>(make: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const logs = yield* makeLogCapture
    const context = yield* Layer.buildWithScope(Layer.provide(Lifecycle.layer, logs.layer), scope)
    const lifecycle = Context.get(context, Lifecycle.Lifecycle)
    const value = yield* make.pipe(
      Effect.provideService(Lifecycle.Lifecycle, lifecycle),
      Effect.provide(logs.layer),
      Scope.extend(scope)
    )
    const close = Effect.fork(Effect.uninterruptible(Scope.close(scope, Exit.void)))
    return { value, lifecycle, close, logs }
  })
