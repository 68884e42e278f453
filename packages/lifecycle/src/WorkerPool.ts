/**
 * N workers fed by a bounded queue, with a shutdown that neither deadlocks nor loses jobs.
 *
 * The classic bug: at shutdown the workers stop taking, the queue is full, and the producer blocks
 * on `offer` forever. With `Queue.shutdown` instead, the producer is interrupted and the buffered
 * jobs vanish. Here `offer` returns `false` as soon as the service drains (blocked producers wake up
 * with `false`), queued jobs are handed to `onRelease` (or finished, as configured), in-flight jobs
 * complete within the deadline, and jobs still running at the deadline are interrupted and released.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import { Lifecycle, ShuttingDown } from "./Lifecycle.js"
import * as LifecycleMetrics from "./LifecycleMetrics.js"

/**
 * @since 0.1.0
 */
export interface Options<J, E, R> {
  readonly name: string
  /** Number of workers. */
  readonly concurrency: number
  /** Jobs that may wait in the queue; `offer` blocks beyond that. Default: `concurrency`. */
  readonly capacity?: number | undefined
  readonly process: (job: J) => Effect.Effect<unknown, E, R>
  /**
   * What happens to queued jobs that no worker started when the service drains:
   * `"release"` hands them to `onRelease` at once (so durable storage can give them to another
   * replica), `"finish"` lets the workers process them within the deadline. Default `"finish"`.
   */
  readonly onShutdown?: "release" | "finish" | undefined
  /** Receives jobs given back unprocessed: queued ones (release mode) and those interrupted at the deadline. */
  readonly onRelease?: ((jobs: ReadonlyArray<J>) => Effect.Effect<void>) | undefined
  /** How long the workers may take to finish at shutdown before they are interrupted. Default 30 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /** Names a job in log lines. */
  readonly describe?: ((job: J) => string) | undefined
}

/**
 * @since 0.1.0
 */
export interface Stats {
  readonly queued: number
  readonly inFlight: number
  readonly completed: number
  readonly failed: number
  readonly released: number
  readonly interrupted: number
}

/**
 * @since 0.1.0
 */
export interface WorkerPool<J, E = never> {
  /**
   * Queues a job, waiting while the queue is full (back-pressure). Returns `false`, without queueing,
   * once the service drains — also for a producer that was already waiting. Never interrupts the caller.
   */
  readonly offer: (job: J) => Effect.Effect<boolean>
  /**
   * Queues a job and waits until a worker processed it. Fails with the job's error, or with
   * `ShuttingDown` when the job was not admitted or was given back unprocessed.
   */
  readonly submit: (job: J) => Effect.Effect<void, E | ShuttingDown>
  readonly stats: Effect.Effect<Stats>
}

interface Entry<J, E> {
  readonly job: J
  readonly done: Deferred.Deferred<void, E | ShuttingDown> | undefined
}

const stop = Symbol("WorkerPool/stop")

/**
 * Starts the workers in the current scope. Admission stops when the service starts draining;
 * closing the scope waits for the workers (up to the deadline).
 *
 * @since 0.1.0
 */
export const make = <J, E, R>(
  options: Options<J, E, R>
): Effect.Effect<WorkerPool<J, E>, never, Scope.Scope | Lifecycle | R> =>
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    const capacity = options.capacity ?? options.concurrency
    const timeout = Duration.decode(options.shutdownTimeout ?? "30 seconds")
    const describe = options.describe ?? ((job: J) => String(job))
    // The queue itself is unbounded; `space` bounds it. Waiting on a semaphore permit can be woken
    // in bulk at shutdown (resize), which a bounded Queue cannot do without interrupting the producer.
    const queue = yield* Queue.unbounded<Entry<J, E> | typeof stop>()
    const space = yield* Effect.makeSemaphore(capacity)
    const workers = yield* FiberSet.make()
    const inFlight = new Set<Entry<J, E>>()
    const interruptedJobs: Array<Entry<J, E>> = []
    const counts = { queued: 0, completed: 0, failed: 0, released: 0, interrupted: 0 }
    const poolLabels = LifecycleMetrics.labels({ pool: options.name })
    const outcome = LifecycleMetrics.labelsBy({ pool: options.name }, "outcome")
    // the series exist from the start, at 0, so a dashboard shows an idle pool as idle
    LifecycleMetrics.poolQueueDepth.unsafeModify(0, poolLabels)
    LifecycleMetrics.poolActiveJobs.unsafeModify(0, poolLabels)
    const queuedBy = (n: number) => {
      counts.queued += n
      LifecycleMetrics.poolQueueDepth.unsafeModify(n, poolLabels)
    }
    let accepting = true

    const release = (entries: ReadonlyArray<Entry<J, E>>, why: string) =>
      Effect.gen(function*() {
        if (entries.length === 0) return
        counts.released += entries.length
        LifecycleMetrics.poolReleasedJobs.unsafeUpdate(entries.length, poolLabels)
        const message = `${options.name}: job ${why}`
        yield* Effect.forEach(
          entries,
          (entry) =>
            entry.done
              ? Deferred.fail(entry.done, new ShuttingDown({ component: options.name, message }))
              : Effect.void,
          { discard: true }
        )
        yield* Effect.log(`pool ${options.name}: released ${entries.length} ${why} job(s)`)
        if (options.onRelease) {
          yield* options.onRelease(entries.map((entry) => entry.job)).pipe(
            Effect.catchAllCause((cause) => Effect.logError(`pool ${options.name}: onRelease failed`, cause))
          )
        }
      })

    // `accepting` turns false when the drain watcher runs; the phase check also covers the moment
    // between draining starting and that watcher running.
    const admissible = Effect.map(lifecycle.isRunning, (running) => running && accepting)

    const enqueue = (entry: Entry<J, E>): Effect.Effect<boolean> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(admissible, (admit) => {
          if (!admit) return Effect.succeed(false)
          return restore(space.take(1)).pipe(
            Effect.zipRight(admissible),
            // No yield between this check and the push: either the entry is queued before admission
            // stops (and then seen by the release step), or it is refused.
            Effect.map((stillAdmit) => {
              if (!stillAdmit) return false
              queuedBy(1)
              queue.unsafeOffer(entry)
              return true
            })
          )
        })
      )

    const stopAdmitting = Effect.suspend(() => {
      if (!accepting) return Effect.void
      accepting = false
      return Effect.gen(function*() {
        // Wake every producer blocked on a full queue: each sees `accepting === false` and returns false.
        yield* space.resize(Number.MAX_SAFE_INTEGER)
        if (options.onShutdown === "release") {
          const queued = (yield* Queue.takeAll(queue)).pipe((chunk) =>
            Array.from(chunk).filter((item): item is Entry<J, E> => item !== stop)
          )
          queuedBy(-queued.length)
          yield* release(queued, "queued")
        }
      })
    })

    const worker = Effect.gen(function*() {
      while (true) {
        const entry = yield* Queue.take(queue)
        if (entry === stop) return
        queuedBy(-1)
        yield* space.release(1)
        inFlight.add(entry)
        LifecycleMetrics.poolActiveJobs.unsafeModify(1, poolLabels)
        const startedAt = yield* Clock.currentTimeMillis
        const observe = (result: "ok" | "failed" | "interrupted") =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            inFlight.delete(entry)
            LifecycleMetrics.poolActiveJobs.unsafeModify(-1, poolLabels)
            LifecycleMetrics.poolJobDuration.unsafeUpdate((now - startedAt) / 1000, outcome(result))
          })
        const exit = yield* options.process(entry.job).pipe(
          Effect.onExit((exit) =>
            exit._tag === "Success"
              ? observe("ok")
              : Cause.isInterruptedOnly(exit.cause)
              ? Effect.zipRight(Effect.sync(() => interruptedJobs.push(entry)), observe("interrupted"))
              : observe("failed")
          ),
          Effect.exit
        )
        if (exit._tag === "Success") {
          counts.completed++
          if (entry.done) yield* Deferred.succeed(entry.done, undefined)
        } else {
          counts.failed++
          yield* Effect.logError(`pool ${options.name}: job ${describe(entry.job)} failed`, exit.cause)
          if (entry.done) yield* Deferred.failCause(entry.done, exit.cause as Cause.Cause<E>)
        }
      }
    }).pipe(Effect.annotateLogs("pool", options.name))

    for (let i = 0; i < options.concurrency; i++) {
      yield* FiberSet.run(workers, worker)
    }

    // Producers must never wait for the finalizer (their own finalizer may run first): admission
    // stops the moment draining begins.
    yield* Effect.forkScoped(Effect.zipRight(lifecycle.awaitDraining, stopAdmitting))

    // Added after the FiberSet: runs before the set's own finalizer interrupts the workers.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* lifecycle.beginStopping
        yield* stopAdmitting
        // FIFO: every worker takes one stop marker after the jobs still queued ("finish" mode).
        yield* Queue.offerAll(queue, Array.from({ length: options.concurrency }, () => stop))
        const finished = yield* FiberSet.awaitEmpty(workers).pipe(Effect.interruptible, Effect.timeoutOption(timeout))
        if (Option.isNone(finished)) {
          const names = Array.from(inFlight, (entry) => describe(entry.job))
          yield* Effect.logWarning(
            `pool ${options.name}: deadline of ${
              Duration.format(timeout)
            } passed, interrupting ${names.length} job(s): ${names.join(", ")}`
          )
          yield* FiberSet.clear(workers)
          counts.interrupted += interruptedJobs.length
          const leftover = (yield* Queue.takeAll(queue)).pipe((chunk) =>
            Array.from(chunk).filter((item): item is Entry<J, E> => item !== stop)
          )
          queuedBy(-leftover.length)
          yield* release([...interruptedJobs, ...leftover], "unfinished")
        }
      }).pipe(
        lifecycle.step(`pool ${options.name}`, {
          pending: () =>
            `${inFlight.size} in flight: ${Array.from(inFlight, (entry) => describe(entry.job)).join(", ")}`
        })
      )
    )

    return {
      offer: (job) => enqueue({ job, done: undefined }),
      submit: (job) =>
        Effect.gen(function*() {
          const done = yield* Deferred.make<void, E | ShuttingDown>()
          const admitted = yield* enqueue({ job, done })
          if (!admitted) {
            return yield* new ShuttingDown({ component: options.name, message: `${options.name}: not accepting jobs` })
          }
          return yield* Deferred.await(done)
        }),
      stats: Effect.sync(() => ({ ...counts, inFlight: inFlight.size }))
    }
  })
