/**
 * Where shutdown signals come from. Production listens to the process; tests send them by hand.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"

/**
 * @since 0.1.0
 */
export interface SignalsService {
  /** Waits for the next signal and returns its name (for example `"SIGTERM"`). */
  readonly next: Effect.Effect<string>
}

/**
 * @since 0.1.0
 */
export class Signals extends Context.Tag("@shop/lifecycle/Signals")<Signals, SignalsService>() {}

/**
 * Listens to `SIGTERM` and `SIGINT` (or the given signals) for the lifetime of the layer.
 *
 * The listeners stay installed after the first signal, so Node's default handler (which kills the
 * process on the spot) never runs: a second signal is delivered to `next` and `Launch` decides.
 *
 * @since 0.1.0
 */
export const layerProcess = (
  signals: ReadonlyArray<NodeJS.Signals> = ["SIGTERM", "SIGINT"]
): Layer.Layer<Signals> =>
  Layer.scoped(
    Signals,
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<string>()
      const onSignal = (signal: NodeJS.Signals) => {
        queue.unsafeOffer(signal)
      }
      yield* Effect.acquireRelease(
        Effect.sync(() => signals.forEach((signal) => process.on(signal, onSignal))),
        () => Effect.sync(() => signals.forEach((signal) => process.off(signal, onSignal)))
      )
      return { next: Queue.take(queue) }
    })
  )

/**
 * A hand-driven signal source for tests.
 *
 * @since 0.1.0
 */
export interface TestSignals extends SignalsService {
  readonly send: (signal: string) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 */
export const makeTest: Effect.Effect<TestSignals> = Effect.map(Queue.unbounded<string>(), (queue) => ({
  next: Queue.take(queue),
  send: (signal) => Queue.offer(queue, signal).pipe(Effect.asVoid)
}))
