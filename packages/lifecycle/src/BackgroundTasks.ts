/**
 * A wait-group for fire-and-forget work: tasks outlive the request that started them, and shutdown
 * waits for them (bounded) instead of cutting them off.
 *
 * `Effect.fork` in a handler dies with the request, `forkDaemon` is cut off by `process.exit`, and a
 * `FiberSet` interrupts its members on close. This service tracks each task by name, logs failures,
 * refuses new tasks once it stops, and waits for the running ones up to its deadline.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { Lifecycle, ShuttingDown } from "./Lifecycle.js"
import * as LifecycleMetrics from "./LifecycleMetrics.js"

/**
 * @since 0.1.0
 */
export interface Stats {
  readonly running: number
  readonly completed: number
  readonly failed: number
  readonly interrupted: number
  readonly refused: number
}

/**
 * @since 0.1.0
 */
export interface BackgroundTasksService {
  /**
   * Starts `task` in the background and returns at once. The task keeps running after the caller
   * finishes; its failures and defects are logged with its name. Fails with `ShuttingDown` once the
   * service stopped accepting tasks.
   */
  readonly run: <A, E, R>(name: string, task: Effect.Effect<A, E, R>) => Effect.Effect<void, ShuttingDown, R>
  /** Names of the tasks running now. */
  readonly running: Effect.Effect<ReadonlyArray<string>>
  readonly stats: Effect.Effect<Stats>
  /** Completes when no task is running (at once if none is). */
  readonly awaitIdle: Effect.Effect<void>
}

/**
 * @since 0.1.0
 */
export class BackgroundTasks extends Context.Tag("@shop/lifecycle/BackgroundTasks")<
  BackgroundTasks,
  BackgroundTasksService
>() {}

/**
 * @since 0.1.0
 */
export interface Options {
  /** How long shutdown waits for running tasks before interrupting them. Default 10 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

const noLabels: ReadonlyArray<never> = []
const outcomeLabels = LifecycleMetrics.labelsBy({}, "outcome")

/**
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<BackgroundTasksService, never, Scope.Scope | Lifecycle> =>
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    const timeout = Duration.decode(options.shutdownTimeout ?? "10 seconds")
    const set = yield* FiberSet.make()
    const names = new Map<number, string>()
    let nextId = 0
    let accepting = true
    const counts = { completed: 0, failed: 0, interrupted: 0, refused: 0 }
    LifecycleMetrics.backgroundTasksActive.unsafeModify(0, noLabels) // the series exists from the start
    const count = (outcome: keyof typeof counts) => {
      counts[outcome]++
      LifecycleMetrics.backgroundTasks.unsafeUpdate(1, outcomeLabels(outcome))
    }

    const runningNames = () => Array.from(names.values())

    // Added after the FiberSet, so it runs before the set's own finalizer interrupts every member.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        accepting = false
        yield* lifecycle.beginStopping
        const done = yield* FiberSet.awaitEmpty(set).pipe(
          Effect.interruptible, // finalizers are uninterruptible: without this the timeout never fires
          Effect.timeoutOption(timeout)
        )
        if (Option.isNone(done)) {
          yield* Effect.logWarning(
            `background tasks: gave up after ${Duration.format(timeout)}, interrupting ${names.size}: ${
              runningNames().join(", ")
            }`
          )
          yield* FiberSet.clear(set)
        }
      }).pipe(
        lifecycle.step("background tasks", { pending: () => `running: ${runningNames().join(", ") || "none"}` })
      )
    )

    const track = <A, E, R>(id: number, name: string, task: Effect.Effect<A, E, R>) =>
      task.pipe(
        // onExit runs uninterruptibly, so an interrupted task is counted and logged too.
        Effect.onExit((exit) => {
          names.delete(id)
          LifecycleMetrics.backgroundTasksActive.unsafeModify(-1, noLabels)
          if (exit._tag === "Success") return Effect.sync(() => count("completed"))
          if (Cause.isInterruptedOnly(exit.cause)) {
            count("interrupted")
            return Effect.logWarning(`background task ${name} interrupted`)
          }
          count("failed")
          return Effect.logError(`background task ${name} failed`, exit.cause)
        }),
        Effect.exit,
        Effect.annotateLogs("task", name)
      )

    const run = <A, E, R>(name: string, task: Effect.Effect<A, E, R>): Effect.Effect<void, ShuttingDown, R> =>
      Effect.suspend(() => {
        if (!accepting) {
          count("refused")
          const message = `background task ${name} refused: shutting down`
          return Effect.zipRight(
            Effect.logWarning(message),
            Effect.fail(new ShuttingDown({ component: "BackgroundTasks", message }))
          )
        }
        const id = nextId++
        names.set(id, name)
        LifecycleMetrics.backgroundTasksActive.unsafeModify(1, noLabels)
        // FiberSet.run forks a daemon: the task is not interrupted when the caller's fiber ends.
        return FiberSet.run(set, track(id, name, task)).pipe(Effect.asVoid)
      })

    return {
      run,
      running: Effect.sync(runningNames),
      stats: Effect.sync(() => ({ running: names.size, ...counts })),
      awaitIdle: FiberSet.awaitEmpty(set)
    }
  })

/**
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<BackgroundTasks, never, Lifecycle> =>
  Layer.scoped(BackgroundTasks, make(options))

/**
 * The settings {@link layerConfig} reads when given none: `BACKGROUND_TASKS_TIMEOUT` (10 seconds).
 *
 * @since 0.2.0
 */
export const defaultConfig: Config.Config.Wrap<Options> = {
  shutdownTimeout: Config.duration("BACKGROUND_TASKS_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10)))
}

/**
 * {@link layer} with its options read through `Config`: {@link defaultConfig}'s variable, or the
 * caller's (`BackgroundTasks.layerConfig({ shutdownTimeout: Config.duration("MAIL_DRAIN_TIMEOUT") })`).
 *
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options> = defaultConfig
): Layer.Layer<BackgroundTasks, ConfigError.ConfigError, Lifecycle> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
