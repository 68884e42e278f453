/**
 * A loop that runs `tick` every `interval`, and stops at a tick boundary when the service drains.
 *
 * The naive `Effect.repeat(tick, Schedule.spaced(...))` under `forkScoped` is interrupted mid-tick
 * at shutdown (a transaction rolls back half a batch) and dies silently at the first failed tick.
 * Here shutdown never interrupts a tick in progress (only the tick's own timeout can abort it), a
 * failed tick is logged and the loop goes on, and no tick starts once draining began.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import { Lifecycle } from "./Lifecycle.js"
import * as LifecycleMetrics from "./LifecycleMetrics.js"

/**
 * @since 0.1.0
 */
export interface Options<A, E, R> {
  readonly name: string
  readonly interval: Duration.DurationInput
  readonly tick: Effect.Effect<A, E, R>
  /**
   * Whether a tick's result means more work is waiting: then the next tick runs at once instead of
   * after `interval` (a backlog drains at the tick's pace; the interval only paces an idle loop).
   * Default: never.
   */
  readonly again?: ((result: A) => boolean) | undefined
  /**
   * Aborts (interrupts) a tick that runs longer than this, so a stuck tick cannot hold up shutdown
   * forever. The tick must itself be interruptible for that to work (`sql.withTransaction` rolls back).
   * Default: no timeout.
   */
  readonly tickTimeout?: Duration.DurationInput | undefined
  /** Run the first tick at once (default) or only after the first interval. */
  readonly runOnStart?: boolean | undefined
}

/**
 * @since 0.1.0
 */
export interface Stats {
  readonly ticks: number
  readonly failures: number
  readonly timeouts: number
}

/**
 * @since 0.1.0
 */
export interface PeriodicWorker {
  /** Wakes the loop to run a tick now (coalesced: many triggers during a tick cause one more tick). */
  readonly trigger: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

class TickTimeout {
  readonly _tag = "TickTimeout"
  constructor(readonly timeout: Duration.Duration) {}
}

/**
 * Starts the loop in the current scope. Closing the scope waits for the tick in progress, if any.
 *
 * @since 0.1.0
 */
export const make = <A, E, R>(
  options: Options<A, E, R>
): Effect.Effect<PeriodicWorker, never, Scope.Scope | Lifecycle | R> =>
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    const interval = Duration.decode(options.interval)
    const wake = yield* Queue.sliding<void>(1)
    const stats = { ticks: 0, failures: 0, timeouts: 0 }
    const outcome = LifecycleMetrics.labelsBy({ worker: options.name }, "outcome")
    const observe = (startedAt: number, result: "ok" | "failed" | "timeout") =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        LifecycleMetrics.tickDuration.unsafeUpdate((now - startedAt) / 1000, outcome(result)))

    const timed: Effect.Effect<A, E | TickTimeout, R> = options.tickTimeout === undefined
      ? options.tick
      : Effect.timeoutFail(Effect.interruptible(options.tick), {
        duration: options.tickTimeout,
        onTimeout: () =>
          new TickTimeout(Duration.decode(options.tickTimeout!))
      })

    // Nothing interrupts the loop (a daemon whose finalizer awaits it, below), so a tick in progress
    // runs to its end; only the tick's own timeout can interrupt it.
    const tick = Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
      timed.pipe(
        Effect.matchCauseEffect({
          onSuccess: (result) =>
            Effect.map(observe(startedAt, "ok"), () => {
              stats.ticks++
              return options.again?.(result) ?? false
            }),
          onFailure: (cause) =>
            Effect.gen(function*() {
              stats.ticks++
              stats.failures++
              const timedOut = cause._tag === "Fail" && cause.error instanceof TickTimeout
              yield* observe(startedAt, timedOut ? "timeout" : "failed")
              if (timedOut) {
                stats.timeouts++
                yield* Effect.logError(
                  `worker ${options.name}: tick aborted after ${Duration.format(cause.error.timeout)}`
                )
              } else {
                yield* Effect.logError(`worker ${options.name}: tick failed`, cause)
              }
              return false
            })
        })
      ))

    const waitForNext = Effect.raceAll([Effect.sleep(interval), Queue.take(wake), lifecycle.awaitDraining])

    const loop = Effect.gen(function*() {
      if (options.runOnStart === false) yield* waitForNext
      while (yield* lifecycle.isRunning) {
        if (!(yield* tick)) yield* waitForNext
      }
    }).pipe(Effect.annotateLogs("worker", options.name))

    // Not forkScoped: scope close must wait for the loop to reach its boundary, not interrupt it.
    const fiber = yield* Effect.forkDaemon(loop)
    yield* Effect.addFinalizer(() =>
      lifecycle.beginStopping.pipe(
        Effect.zipRight(Fiber.await(fiber)),
        lifecycle.step(`worker ${options.name}`, { pending: () => "tick in progress" })
      )
    )

    return {
      trigger: Queue.offer(wake, undefined).pipe(Effect.asVoid),
      stats: Effect.sync(() => ({ ...stats }))
    }
  })

/**
 * The worker as a layer, for services that need no handle on it.
 *
 * @since 0.1.0
 */
export const layer = <A, E, R>(options: Options<A, E, R>): Layer.Layer<never, never, Lifecycle | R> =>
  Layer.scopedDiscard(make(options))
