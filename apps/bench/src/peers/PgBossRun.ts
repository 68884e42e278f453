/**
 * The fulfillment worker's job done with pg-boss 12.35, as a team would pick it instead: one job per
 * order step, in queues `pick` and `pack`. Workers are transactional (`work(…, { transactional: true })`):
 * a batch's transition (the shared CTE over the batch's order ids), the `pack` jobs it adds
 * (`insert(…, { db: tx })`) and the batch's completion commit together. A job run again finds its
 * order moved already and does nothing.
 *
 * The N `pick` jobs are inserted in the seed's own transaction, through an `IDatabase` over our
 * Effect client's transaction (pg-boss's `db` option, as its ORM adapters do), so orders and jobs
 * appear at one commit, where the clock starts (as in FulfillmentRun).
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type { EventEmitter } from "node:events"
import { PgBoss } from "pg-boss"
import type { IDatabase, Job } from "pg-boss/dist/types.js"
import { BenchError } from "../BenchError.js"
import { int } from "../Report.js"
import * as PeerRun from "./PeerRun.js"
import * as TransitionSql from "./TransitionSql.js"

export interface Options {
  readonly orders: number
  readonly timeout: Duration.DurationInput
  /** `work()`'s `batchSize`, default {@link defaults} (the shop's `FULFILLMENT_BATCH` default). */
  readonly batchSize?: number | undefined
  /** `work()`'s `localConcurrency` per queue, default {@link defaults}. */
  readonly localConcurrency?: number | undefined
}

/**
 * pg-boss publishes no throughput preset; these follow https://pgboss.io/api/workers: a batch per
 * fetch (`batchSize`), `burstWhenBatchFull` so a worker fetches again at once while batches come back
 * full, `localConcurrency` workers per queue (its example's 10), LISTEN/NOTIFY (`useListenNotify` +
 * queues created with `notify: true`, "Low-latency dispatch") and the 0.5 s minimum poll for when a
 * notification cannot help. `transactional` asks for a pool "above localConcurrency (summed over your
 * transactional queues) with room to spare": 2 × 10 + 5.
 */
export const defaults = {
  batchSize: 100,
  localConcurrency: 10,
  spareConnections: 5,
  pollingIntervalSeconds: 0.5
} as const

interface WorkOptions {
  readonly batchSize: number
  readonly burstWhenBatchFull: true
  readonly localConcurrency: number
  readonly pollingIntervalSeconds: number
  readonly transactional: true
}

interface OrderJob {
  readonly orderId: number
}

const pickSql = TransitionSql.transition(TransitionSql.pick, "$1::bigint[]")
const packSql = TransitionSql.transition(TransitionSql.pack, "$1::bigint[]")

/** pg-boss's `db` option over the transaction `sql` is in when this runs. */
const transactionDb = (sql: PgClient.PgClient) =>
  Effect.map(Effect.runtime<never>(), (runtime): IDatabase => ({
    executeSql: (text, values) =>
      Runtime.runPromise(runtime)(sql.unsafe(text, (values ?? []) as ReadonlyArray<any>)).then((rows) => ({
        rows: [...rows]
      }))
  }))

export const run = (adminUrl: Redacted.Redacted, options: Options): Effect.Effect<PeerRun.PeerResult, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const batchSize = options.batchSize ?? defaults.batchSize
    const localConcurrency = options.localConcurrency ?? defaults.localConcurrency
    const max = 2 * localConcurrency + defaults.spareConnections
    const db = yield* PeerRun.freshDatabase(adminUrl, "pgboss")
    // a failing batch is retried (retryLimit 2) and then left failed: the first failure ends the run
    const failed = yield* Deferred.make<never, BenchError>()
    const fail = (message: string) => Deferred.unsafeDone(failed, Effect.fail(new BenchError({ message })))

    const boss = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const boss = new PgBoss({ connectionString: Redacted.value(db.url), max, useListenNotify: true })
          // its declarations default-import node:events, which this repo's settings (no
          // allowSyntheticDefaultImports) leave untyped: seen through Node's own type here
          const emitter = boss as unknown as EventEmitter
          emitter.on("error", (error: Error) => fail(`pg-boss error: ${error.message}`))
          emitter.on("warning", (warning: { message: string }) => console.error(`pg-boss warning: ${warning.message}`))
          await boss.start()
          return boss
        },
        catch: (cause) => new BenchError({ message: `pg-boss did not start: ${String(cause)}`, cause })
      }),
      (boss) => Effect.promise(() => boss.stop({ graceful: true, close: true, timeout: 10_000 }).catch(() => undefined))
    )

    const handler = (step: "pick" | "pack") => async (jobs: Array<Job<OrderJob>>, tx: IDatabase) => {
      try {
        const ids = jobs.map((job) => job.data.orderId)
        const { rows } = await tx.executeSql(step === "pick" ? pickSql : packSql, [ids])
        if (step === "pick" && rows.length > 0) {
          await boss.insert("pack", rows.map((row) => ({ data: { orderId: Number(row.order_id) } })), { db: tx })
        }
      } catch (error) {
        fail(`pg-boss ${step} batch failed: ${String(error)}`)
        throw error
      }
    }
    yield* Effect.tryPromise({
      try: async () => {
        for (const step of ["pick", "pack"] as const) {
          await boss.createQueue(step, { notify: true })
          await boss.work<OrderJob, unknown, WorkOptions>(step, {
            batchSize,
            burstWhenBatchFull: true,
            localConcurrency,
            pollingIntervalSeconds: defaults.pollingIntervalSeconds,
            transactional: true
          }, handler(step))
        }
      },
      catch: (cause) => new BenchError({ message: `pg-boss queues/workers: ${String(cause)}`, cause })
    })

    const range = yield* PeerRun.seed(
      db.sql,
      options.orders,
      ({ first, last }) =>
        Effect.flatMap(transactionDb(db.sql), (tx) =>
          Effect.tryPromise({
            try: () =>
              boss.insert(
                "pick",
                Array.from({ length: last - first + 1 }, (_, i) => ({ data: { orderId: first + i } })),
                {
                  db: tx
                }
              ),
            catch: (cause) => new BenchError({ message: `pg-boss insert: ${String(cause)}`, cause })
          }))
    )
    const elapsed = yield* PeerRun.timeUntilPacked(db.sql, range, options.timeout, Deferred.await(failed))
    return PeerRun.result({
      peer: "pg-boss 12.35.0",
      orders: options.orders,
      transitions: 2 * options.orders,
      config: `one job per step (${int(2 * options.orders)} jobs), queues pick/pack with notify, useListenNotify, ` +
        `work: batchSize=${batchSize}, burstWhenBatchFull, localConcurrency=${localConcurrency} per queue, ` +
        `pollingIntervalSeconds=${defaults.pollingIntervalSeconds}, transactional; pool max=${max}; ` +
        `pick jobs inserted in the seed's transaction`
    }, elapsed)
  })).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `pg-boss run: ${cause.message}`, cause }))
  )
