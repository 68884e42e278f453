/**
 * The fulfillment worker's job done with graphile-worker 0.18, as a team would pick it instead: one job
 * per order step. Task `pick` moves its order paid → picking, writes the event and adds the order's
 * `pack` job; task `pack` moves it picking → packed and writes the event. `pick` is one statement (the
 * shared transition CTE ending in `graphile_worker.add_job`), so the three writes commit together.
 * The job's own completion is graphile's, afterwards: a job run twice finds its order moved already
 * and does nothing.
 *
 * The N `pick` jobs are added by `graphile_worker.add_jobs` in the seed's own transaction, so orders
 * and jobs appear at one commit, where the clock starts (as in FulfillmentRun). The runner is up
 * and listening before that.
 *
 * What bounds it: `add_job` ends in `pg_notify('jobs:insert', …)`, and PostgreSQL serialises the
 * commits of notifying transactions (one lock on the notification queue, held through the WAL
 * flush), so the N `pick` commits go one at a time however many jobs run concurrently — measured
 * with pgbench here, the same statement with `add_job` reaches 1/5 of the rate without it.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as GraphileWorker from "graphile-worker"
import { EventEmitter } from "node:events"
import pg from "pg"
import { BenchError } from "../BenchError.js"
import { int } from "../Report.js"
import * as PeerRun from "./PeerRun.js"
import * as TransitionSql from "./TransitionSql.js"

export interface Options {
  readonly orders: number
  readonly timeout: Duration.DurationInput
  /** `concurrentJobs`, default {@link defaults}. */
  readonly concurrentJobs?: number | undefined
}

/**
 * The configuration of graphile-worker's published figures (https://worker.graphile.org/docs/performance,
 * "Quick stats": `concurrentJobs: 24`, `localQueue: { size: 500 }`, `completeJobBatchDelay: 0`,
 * `failJobBatchDelay: 0`). Its `maxPoolSize: 25` is for tasks that do not query; ours hold a pool
 * client each, and the option's doc (at least `concurrentJobs + 2`; "an even larger value may be
 * needed" when tasks use the pool) asks for more: the local queue's fetch, the batched completions
 * and the LISTEN connection come on top of the 24 tasks.
 */
export const defaults = {
  concurrentJobs: 24,
  localQueueSize: 500,
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
  extraPoolClients: 6
} as const

const pickSql = `${TransitionSql.transitionCte(TransitionSql.pick, "ARRAY[$1::bigint]")}
SELECT graphile_worker.add_job('pack', json_build_object('orderId', order_id)) FROM events`

const packSql = TransitionSql.transition(TransitionSql.pack, "ARRAY[$1::bigint]")

const orderId = (payload: unknown) => (payload as { readonly orderId: number }).orderId

/** Ends the pool and resolves once each of its connections has closed (or after 10 s, a client never released). */
const endPool = (pool: pg.Pool) =>
  new Promise<void>((resolve) => {
    let open = pool.totalCount
    const bound = setTimeout(resolve, 10_000)
    const done = () => {
      clearTimeout(bound)
      resolve()
    }
    pool.on("remove", () => {
      if (--open <= 0) done()
    })
    pool.end().then(() => open <= 0 && done(), done)
  })

// 40,000 "Completed task" lines at info level would be a benchmark of the console
const quietLogger = new GraphileWorker.Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`graphile-worker ${level}: ${message}`)
})

/**
 * Our pool, not graphile's: graphile ends its own pool without waiting and unhooks its error handler
 * at `stop()`, so the DROP DATABASE right after kills connections nobody listens to any more, and
 * pg's unhandled "error" event takes the process down. Ours is ended after the runner, and awaited
 * until every connection is closed: `pool.end()` itself resolves before that.
 */
const ownPool = (url: Redacted.Redacted, max: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new pg.Pool({ connectionString: Redacted.value(url), max })
      const report = (error: Error) => console.error(`graphile-worker pool: ${error.message}`)
      pool.on("error", report)
      pool.on("connect", (client) => client.on("error", report))
      return pool
    }),
    (pool) => Effect.promise(() => endPool(pool))
  )

export const run = (adminUrl: Redacted.Redacted, options: Options): Effect.Effect<PeerRun.PeerResult, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const concurrentJobs = options.concurrentJobs ?? defaults.concurrentJobs
    const maxPoolSize = concurrentJobs + defaults.extraPoolClients
    const db = yield* PeerRun.freshDatabase(adminUrl, "graphile")
    // a job that throws is retried with backoff for hours: the first one ends the run instead
    const jobFailed = yield* Deferred.make<never, BenchError>()
    // our own emitter, given before the start, so that the LISTEN connection's success is not missed
    const events: GraphileWorker.WorkerEvents = new EventEmitter()
    const listening = yield* Deferred.make<void>()
    events.once("pool:listen:success", () => Deferred.unsafeDone(listening, Effect.void))
    events.on("job:error", ({ error, job }) => {
      Deferred.unsafeDone(
        jobFailed,
        Effect.fail(new BenchError({ message: `graphile-worker job ${job.task_identifier} failed: ${String(error)}` }))
      )
    })

    const pool = yield* ownPool(db.url, maxPoolSize)
    const runner = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          GraphileWorker.run({
            pgPool: pool,
            noHandleSignals: true,
            logger: quietLogger,
            crontab: "",
            taskList: {
              pick: async (payload, helpers) => {
                await helpers.query(pickSql, [orderId(payload)])
              },
              pack: async (payload, helpers) => {
                await helpers.query(packSql, [orderId(payload)])
              }
            },
            preset: {
              worker: {
                events,
                concurrentJobs,
                maxPoolSize,
                localQueue: { size: defaults.localQueueSize },
                completeJobBatchDelay: defaults.completeJobBatchDelay,
                failJobBatchDelay: defaults.failJobBatchDelay
              }
            }
          }),
        catch: (cause) => new BenchError({ message: `graphile-worker did not start: ${String(cause)}`, cause })
      }),
      (runner) => Effect.promise(() => runner.stop().catch(() => undefined))
    )
    runner.promise.catch((error) =>
      Deferred.unsafeDone(
        jobFailed,
        Effect.fail(new BenchError({ message: `graphile-worker stopped: ${String(error)}` }))
      )
    )

    // the seed's commit notifies `jobs:insert`; a pool not yet listening would see it at its next poll (2 s)
    yield* Deferred.await(listening).pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(10),
        onTimeout: () => new BenchError({ message: "graphile-worker did not LISTEN within 10 s" })
      })
    )
    const range = yield* PeerRun.seed(db.sql, options.orders, ({ first, last }) =>
      db.sql`
        SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
          SELECT ROW('pick', json_build_object('orderId', id), NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec
          FROM generate_series(${first}::bigint, ${last}::bigint) AS id
        ))`)
    const elapsed = yield* PeerRun.timeUntilPacked(db.sql, range, options.timeout, Deferred.await(jobFailed))
    return PeerRun.result({
      peer: "graphile-worker 0.18.0",
      orders: options.orders,
      transitions: 2 * options.orders,
      config: `one job per step (${int(2 * options.orders)} jobs), concurrentJobs=${concurrentJobs}, ` +
        `maxPoolSize=${maxPoolSize}, localQueue.size=${defaults.localQueueSize}, ` +
        `completeJobBatchDelay=${defaults.completeJobBatchDelay}, failJobBatchDelay=${defaults.failJobBatchDelay}, ` +
        `LISTEN/NOTIFY (built in); pick jobs added in the seed's transaction`
    }, elapsed)
  })).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `graphile-worker run: ${cause.message}`, cause }))
  )
