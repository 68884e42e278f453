/**
 * Runs an application Layer as the process main, with a graceful, bounded shutdown.
 *
 * `NodeRuntime.runMain` + `Layer.launch` interrupt the main fiber on SIGTERM and then wait for the
 * finalizers without any limit; a second signal kills the process mid-finalizer, and a finalizer that
 * dies is never logged. `Launch` replaces that: one deadline for the whole shutdown, a logged second
 * signal, finalizer failures logged with their cause, and an exit code that says how it went.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Scope from "effect/Scope"
import * as Lifecycle from "./Lifecycle.js"
import * as Signals from "./Signals.js"

/**
 * @since 0.1.0
 */
export interface Options {
  /** The whole shutdown must finish within this time, or the process exits 1. Default 25 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput | Config.Config<Duration.Duration> | undefined
}

/**
 * Exit codes: 0 when the shutdown completed, 1 when start-up failed, a finalizer failed or the
 * deadline passed, 128 + signal number when a second signal cut the shutdown short.
 *
 * @since 0.1.0
 */
export type ExitCode = number

const signalExitCodes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGQUIT: 131 }

const formatMs = (ms: number) => `${Math.round(ms)} ms`

const describePending = (report: Lifecycle.ShutdownReport): string => {
  const running = report.steps.filter((step) => step.outcome === "running")
  if (running.length === 0) return "no step was running"
  return running.map((step) => step.pending ? `${step.name} (${step.pending})` : step.name).join("; ")
}

const resolveTimeout = (input: Options["shutdownTimeout"]): Effect.Effect<Duration.Duration, never> => {
  if (input === undefined) return Effect.succeed(Duration.seconds(25))
  if (Config.isConfig(input)) return Effect.orDie(input as Config.Config<Duration.Duration>)
  return Effect.succeed(Duration.decode(input as Duration.DurationInput))
}

/**
 * Builds the layer, waits for a signal (or a {@link Lifecycle.LifecycleService.requestShutdown}), then
 * closes it under the deadline. Returns the exit code; it never calls `process.exit` itself, so tests
 * can run it with {@link Signals.makeTest} and `TestClock`.
 *
 * The layer gets a fresh {@link Lifecycle.Lifecycle}, which is therefore built first and released last.
 *
 * @since 0.1.0
 */
export const launch = <E>(
  layer: Layer.Layer<never, E, Lifecycle.Lifecycle>,
  options: Options = {}
): Effect.Effect<ExitCode, never, Signals.Signals> =>
  Effect.gen(function*() {
    const deadline = yield* resolveTimeout(options.shutdownTimeout)
    const signals = yield* Signals.Signals
    const lifecycle = yield* Lifecycle.make
    const scope = yield* Scope.make()
    const startedAt = yield* Clock.currentTimeMillis

    const started = yield* Layer.buildWithScope(layer, scope).pipe(
      Effect.provideService(Lifecycle.Lifecycle, lifecycle),
      Effect.exit,
      Effect.raceFirst(Effect.map(signals.next, (signal) => Exit.die(`${signal} during start-up`)))
    )
    if (Exit.isFailure(started)) {
      yield* Effect.logError("start-up failed", started.cause)
    } else {
      yield* Effect.log(`started in ${formatMs((yield* Clock.currentTimeMillis) - startedAt)}`)
    }

    const reason = Exit.isFailure(started)
      ? "start-up failed"
      : yield* Effect.raceFirst(
        Effect.map(signals.next, (signal) => `${signal} received`),
        lifecycle.awaitShutdownRequest
      )
    yield* Effect.log(`shutdown: ${reason}, deadline ${Duration.format(deadline)}`)
    yield* lifecycle.beginDrain(reason)
    const shutdownAt = yield* Clock.currentTimeMillis

    // A daemon, so that giving up at the deadline does not wait for finalizers that are
    // uninterruptible by design (an open transaction, an in-flight request).
    const closing = yield* Effect.forkDaemon(Effect.exit(Scope.close(scope, Exit.void)))
    const outcome = yield* Effect.raceAll([
      Effect.map(Fiber.join(closing), (exit) => ({ _tag: "Closed" as const, exit })),
      Effect.as(Effect.sleep(deadline), { _tag: "Deadline" as const }),
      Effect.map(signals.next, (signal) => ({ _tag: "Forced" as const, signal }))
    ])
    const elapsed = formatMs((yield* Clock.currentTimeMillis) - shutdownAt)

    switch (outcome._tag) {
      case "Deadline": {
        const report = yield* lifecycle.report
        yield* Effect.logError(
          `shutdown: deadline of ${Duration.format(deadline)} exceeded; abandoned: ${describePending(report)}`
        )
        return 1
      }
      case "Forced": {
        const report = yield* lifecycle.report
        yield* Effect.logError(
          `shutdown: second signal (${outcome.signal}), exiting at once after ${elapsed}; abandoned: ${
            describePending(report)
          }`
        )
        return signalExitCodes[outcome.signal] ?? 1
      }
      case "Closed": {
        yield* lifecycle.markStopped
        const report = yield* lifecycle.report
        const phases = report.phases
          .filter((p) => p.phase === "draining" || p.phase === "stopping")
          .map((p) => `${p.phase} ${formatMs(p.durationMs ?? 0)}`)
          .join(", ")
        const finalizerCause = Exit.isFailure(outcome.exit) ? outcome.exit.cause : Cause.empty
        const failed = !Cause.isEmpty(finalizerCause) && !Cause.isInterruptedOnly(finalizerCause)
        if (failed) {
          yield* Effect.logError("shutdown: a finalizer failed", finalizerCause)
        }
        const code = failed || Exit.isFailure(started) ? 1 : 0
        yield* Effect.log(
          `shutdown ${code === 0 ? "complete" : "finished with errors"} in ${elapsed} (${phases}), exit ${code}`
        )
        return code
      }
    }
  })

/**
 * Options of {@link runMain}.
 *
 * @since 0.1.0
 */
export interface RunMainOptions extends Options {
  /** Replaces the default logger (`Logger.pretty`), for example with `Logger.json`. */
  readonly logger?: Layer.Layer<never> | undefined
  /**
   * A tracer or metrics exporter (`@effect/opentelemetry`'s `OtlpTracer.layer`, …): built before the
   * application and released after its shutdown, so its final export carries the whole shutdown.
   */
  readonly observability?: Layer.Layer<never> | undefined
}

/**
 * The process entry point: runs {@link launch} with the process's SIGTERM and SIGINT, then exits
 * with its exit code. Run it as `node dist/main.js` (PID 1 in a container) so that the signal
 * reaches Node: package-manager wrappers may not forward it.
 *
 * @since 0.1.0
 */
export const runMain = <E>(layer: Layer.Layer<never, E, Lifecycle.Lifecycle>, options: RunMainOptions = {}): void => {
  // Nothing else may keep the event loop alive (a worker-only service has no open socket).
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  const program = launch(layer, options).pipe(
    Effect.provide(Signals.layerProcess()),
    Effect.provide(options.observability ?? Layer.empty),
    Effect.provide(options.logger ?? Logger.pretty)
  )
  Effect.runFork(program).addObserver((exit) => {
    clearInterval(keepAlive)
    if (Exit.isFailure(exit)) {
      // `launch` itself never fails: this is the logger or the signal source failing to start, so
      // there is no logger to say it with.
      process.stderr.write(`launch failed before it could log:\n${Cause.pretty(exit.cause)}\n`)
    }
    process.exit(Exit.isSuccess(exit) ? exit.value : 1)
  })
}
