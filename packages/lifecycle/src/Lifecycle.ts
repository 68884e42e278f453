/**
 * The shared shutdown state of a service: which phase it is in, whether it is ready for traffic,
 * and how long each part of the shutdown took.
 *
 * Phases only move forward: `running → draining → stopping → stopped`.
 * - `draining`: the edge stops taking work (readiness fails, HTTP drains, producers stop).
 * - `stopping`: internal work winds down (pools, workers, background tasks), then resources close.
 * - `stopped`: every finalizer has run.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as LifecycleMetrics from "./LifecycleMetrics.js"

/**
 * @since 0.1.0
 */
export type Phase = "running" | "draining" | "stopping" | "stopped"

/**
 * Raised when work is offered to a component that no longer accepts it because shutdown began.
 *
 * @since 0.1.0
 */
export class ShuttingDown extends Data.TaggedError("ShuttingDown")<{
  readonly component: string
  readonly message: string
}> {}

/**
 * The outcome of one readiness check.
 *
 * @since 0.1.0
 */
export interface CheckResult {
  readonly name: string
  readonly ok: boolean
  readonly error?: string
}

/**
 * What `/readyz` reports: ready only while `running` and every registered check passes.
 *
 * @since 0.1.0
 */
export interface Readiness {
  readonly ready: boolean
  readonly phase: Phase
  readonly checks: ReadonlyArray<CheckResult>
}

/**
 * One timed part of the shutdown (for example "http drain"), as reported by {@link Lifecycle.step}.
 *
 * @since 0.1.0
 */
export interface StepReport {
  readonly name: string
  readonly startedAt: number
  readonly durationMs: number | undefined
  readonly outcome: "running" | "done" | "failed"
  /** While running: what the step is still waiting for, when the step can say. */
  readonly pending: string | undefined
}

/**
 * @since 0.1.0
 */
export interface ShutdownReport {
  readonly reason: string | undefined
  readonly phases: ReadonlyArray<
    { readonly phase: Phase; readonly startedAt: number; readonly durationMs: number | undefined }
  >
  readonly steps: ReadonlyArray<StepReport>
}

/**
 * Options of {@link Lifecycle.step}.
 *
 * @since 0.1.0
 */
export interface StepOptions {
  /** Describes what the step still waits for; read when the shutdown deadline abandons it. */
  readonly pending?: () => string
}

/**
 * @since 0.1.0
 */
export interface LifecycleService {
  readonly phase: Effect.Effect<Phase>
  /** `true` until draining begins: loops use it to decide whether to start another round. */
  readonly isRunning: Effect.Effect<boolean>
  /** Completes as soon as draining begins (at once if it already has). */
  readonly awaitDraining: Effect.Effect<void>
  /** Enters `draining` (idempotent). The reason is logged and reported. */
  readonly beginDrain: (reason: string) => Effect.Effect<void>
  /** Enters `stopping`, passing through `draining` if needed (idempotent). */
  readonly beginStopping: Effect.Effect<void>
  /** Enters `stopped` (idempotent). */
  readonly markStopped: Effect.Effect<void>
  /** Asks whoever launched the service to shut it down (for example after a fatal error). */
  readonly requestShutdown: (reason: string) => Effect.Effect<void>
  /** Completes with the reason once {@link LifecycleService.requestShutdown} was called. */
  readonly awaitShutdownRequest: Effect.Effect<string>
  /** Registers a readiness check for the lifetime of the scope. A failing check makes readiness false. */
  readonly addReadinessCheck: (
    name: string,
    check: Effect.Effect<unknown, unknown>
  ) => Effect.Effect<void, never, Scope.Scope>
  readonly readiness: Effect.Effect<Readiness>
  /** Times a part of the shutdown, logs its duration, and reports it as abandoned if it is still running. */
  readonly step: (
    name: string,
    options?: StepOptions
  ) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly report: Effect.Effect<ShutdownReport>
}

/**
 * @since 0.1.0
 */
export class Lifecycle extends Context.Tag("@shop/lifecycle/Lifecycle")<Lifecycle, LifecycleService>() {}

const order: Record<Phase, number> = { running: 0, draining: 1, stopping: 2, stopped: 3 }
const phaseLabels = LifecycleMetrics.labelsBy({}, "phase")
const stepLabels = LifecycleMetrics.labelsBy({}, "step")

/** A check that does not answer within this time counts as failed: readiness must answer fast. */
const checkTimeout = Duration.seconds(2)

const formatMs = (ms: number) => `${Math.round(ms)} ms`

/**
 * Creates the lifecycle state. Times come from the Effect `Clock`, so tests can drive them with `TestClock`.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<LifecycleService> = Effect.gen(function*() {
  let phase: Phase = "running"
  let reason: string | undefined
  const phases: Array<{ phase: Phase; startedAt: number; durationMs: number | undefined }> = [
    { phase: "running", startedAt: yield* Clock.currentTimeMillis, durationMs: undefined }
  ]
  const steps: Array<
    {
      name: string
      startedAt: number
      durationMs: number | undefined
      outcome: StepReport["outcome"]
      pending: (() => string) | undefined
    }
  > = []
  const checks = new Map<number, { name: string; check: Effect.Effect<unknown, unknown> }>()
  let nextCheckId = 0
  const draining = yield* Deferred.make<void>()
  for (const p of Object.keys(order) as Array<Phase>) {
    LifecycleMetrics.phase.unsafeUpdate(p === phase ? 1 : 0, phaseLabels(p))
  }
  const shutdownRequest = yield* Deferred.make<string>()

  const enter = (next: Phase): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (order[next] <= order[phase]) return Effect.void
      return Effect.gen(function*() {
        // Passing through skipped phases keeps the report and `awaitDraining` consistent.
        if (order[next] > order.draining && order[phase] < order.draining) yield* enter("draining")
        if (order[next] > order.stopping && order[phase] < order.stopping) yield* enter("stopping")
        const now = yield* Clock.currentTimeMillis
        const previous = phases[phases.length - 1]
        previous.durationMs = now - previous.startedAt
        phase = next
        phases.push({ phase: next, startedAt: now, durationMs: next === "stopped" ? 0 : undefined })
        LifecycleMetrics.phase.unsafeUpdate(0, phaseLabels(previous.phase))
        LifecycleMetrics.phase.unsafeUpdate(1, phaseLabels(next))
        if (previous.phase !== "running") {
          LifecycleMetrics.shutdownPhaseDuration.unsafeUpdate(previous.durationMs / 1000, phaseLabels(previous.phase))
          yield* Effect.log(`shutdown: phase ${previous.phase} took ${formatMs(previous.durationMs)}`)
        }
        if (next === "draining") {
          yield* Effect.log(`shutdown: draining (${reason ?? "scope closed"})`)
          yield* Deferred.succeed(draining, undefined)
        } else if (next === "stopping") {
          yield* Effect.log("shutdown: stopping")
        }
      })
    })

  const runCheck = (name: string, check: Effect.Effect<unknown, unknown>): Effect.Effect<CheckResult> =>
    check.pipe(
      Effect.timeoutFail({
        duration: checkTimeout,
        onTimeout: () => `no answer within ${Duration.format(checkTimeout)}`
      }),
      Effect.match({
        onFailure: (error): CheckResult => ({ name, ok: false, error: describeError(error) }),
        onSuccess: (): CheckResult => ({ name, ok: true })
      }),
      Effect.catchAllDefect((defect) => Effect.succeed<CheckResult>({ name, ok: false, error: describeError(defect) }))
    )

  const service: LifecycleService = {
    phase: Effect.sync(() => phase),
    isRunning: Effect.sync(() => phase === "running"),
    awaitDraining: Deferred.await(draining),
    beginDrain: (why) =>
      Effect.suspend(() => {
        if (reason === undefined) reason = why
        return enter("draining")
      }),
    beginStopping: enter("stopping"),
    markStopped: enter("stopped"),
    requestShutdown: (why) => Deferred.succeed(shutdownRequest, why).pipe(Effect.asVoid),
    awaitShutdownRequest: Deferred.await(shutdownRequest),
    addReadinessCheck: (name, check) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const id = nextCheckId++
          checks.set(id, { name, check })
          return id
        }),
        (id) => Effect.sync(() => checks.delete(id))
      ).pipe(Effect.asVoid),
    readiness: Effect.suspend(() => {
      const current = phase
      return Effect.forEach(checks.values(), ({ check, name }) => runCheck(name, check), { concurrency: "unbounded" })
        .pipe(Effect.map((results): Readiness => ({
          ready: current === "running" && results.every((result) => result.ok),
          phase: current,
          checks: results
        })))
    }),
    step: (name, options) => (self) =>
      Effect.gen(function*() {
        const entry = {
          name,
          startedAt: yield* Clock.currentTimeMillis,
          durationMs: undefined as number | undefined,
          outcome: "running" as StepReport["outcome"],
          pending: options?.pending
        }
        steps.push(entry)
        const exit = yield* Effect.exit(self)
        entry.durationMs = (yield* Clock.currentTimeMillis) - entry.startedAt
        entry.outcome = exit._tag === "Success" ? "done" : "failed"
        LifecycleMetrics.shutdownStepDuration.unsafeUpdate(entry.durationMs / 1000, stepLabels(name))
        if (exit._tag === "Success") {
          yield* Effect.log(`shutdown: ${name} done in ${formatMs(entry.durationMs)}`)
        } else {
          yield* Effect.logError(`shutdown: ${name} failed after ${formatMs(entry.durationMs)}`, exit.cause)
        }
        return yield* exit
      }),
    report: Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      return {
        reason,
        phases: phases.map((p) => ({ ...p, durationMs: p.durationMs ?? now - p.startedAt })),
        steps: steps.map((s): StepReport => ({
          name: s.name,
          startedAt: s.startedAt,
          outcome: s.outcome,
          durationMs: s.durationMs,
          pending: s.outcome === "running"
            ? Option.getOrUndefined(Option.liftThrowable(() => s.pending?.())())
            : undefined
        }))
      }
    })
  }
  return service
})

const describeError = (error: unknown): string =>
  typeof error === "string"
    ? error
    : error instanceof Error
    ? error.message
    : typeof error === "object" && error !== null && "message" in error
    ? String(error.message)
    : String(error)

/**
 * A fresh {@link Lifecycle}. `Launch` builds its own and provides it to the application layer;
 * use this layer when running the service some other way (tests, `Layer.launch`).
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Lifecycle> = Layer.effect(Lifecycle, make)
