import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Lifecycle from "../src/Lifecycle.js"

export { eventually, makeLogCapture } from "../src/testing/internal/util.js"
import { makeLogCapture } from "../src/testing/internal/util.js"

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
