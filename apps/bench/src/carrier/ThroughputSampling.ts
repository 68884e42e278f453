/**
 * What the throughput run samples every 200 ms: the simulator's pending bookings, the shop's pool
 * gauges and its PostgreSQL sessions (by its `application_name`), less the bench's own transactions.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import type * as CarrierSimProcess from "../CarrierSimProcess.js"
import * as ShopMetrics from "../ShopMetrics.js"
import type * as ShopProcess from "../ShopProcess.js"

/** `shop_carrier_bookings_total` by outcome. */
export const bookingOutcomes = (text: string): Record<string, number> =>
  Object.fromEntries(
    Array.from(text.matchAll(/^shop_carrier_bookings_total\{outcome="(\w+)"\} (\d+)$/gm), (m) => [m[1], Number(m[2])])
  )

export interface Sample {
  readonly at: number
  readonly pending: number
  readonly inFlight: number
  readonly queued: number
  /** The shop's PostgreSQL sessions running a statement (`active`), of which waiting on I/O or an LWLock. */
  readonly active: number
  readonly ioWait: number
  /** Sessions inside a transaction, waiting for the shop's next statement (`idle in transaction`). */
  readonly inTransaction: number
  readonly sessions: number
  /** `wait_event_type:wait_event` of the active sessions that wait, counted. */
  readonly waits: ReadonlyArray<string>
  /** Transactions of this database so far (`pg_stat_database`, flushed by each backend within ~1 s), less ours. */
  readonly transactions: number
}

/** Runs a query of the bench's own on the shop's database, counted so it is not taken for the shop's. */
export type Own = <A, E, R>(query: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

export const make = (
  sql: PgClient.PgClient,
  sim: CarrierSimProcess.CarrierSimProcess,
  shop: ShopProcess.ShopProcess,
  applicationName: string
) => {
  const sessions = Effect.map(
    sql<{ active: number; io: number; tx: number; sessions: number; xacts: number }>`
      SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database
              WHERE datname = current_database())::float8 AS xacts,
             count(*) FILTER (WHERE state = 'active')::int AS active,
             count(*) FILTER (WHERE state = 'active' AND wait_event_type IN ('IO', 'LWLock'))::int AS io,
             count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS tx,
             count(*)::int AS sessions
      FROM pg_stat_activity WHERE datname = current_database() AND application_name = ${applicationName}`,
    ([row]) => row
  )
  const waitEvents = Effect.map(
    sql<{ event: string }>`
      SELECT wait_event_type || ':' || wait_event AS event FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ${applicationName}
        AND state = 'active' AND wait_event IS NOT NULL`,
    (rows) => rows.map((row) => row.event)
  )
  const samples: Array<Sample> = []
  // every statement the bench itself runs on this database during the run: subtracted from the count
  let ownTransactions = 0
  const own: Own = (query) => Effect.ensuring(query, Effect.sync(() => ownTransactions++))
  const metricsText = ShopMetrics.scrape(shop.baseUrl)
  const sample = Effect.gen(function*() {
    const [stats, text, db, waits] = yield* Effect.all([sim.stats, metricsText, own(sessions), own(waitEvents)])
    samples.push({
      at: Date.now(),
      pending: stats.requests.pending,
      inFlight: ShopMetrics.metric(text, "lifecycle_pool_active_jobs", { pool: "carrier" }),
      queued: ShopMetrics.metric(text, "lifecycle_pool_queue_depth", { pool: "carrier" }),
      active: db.active,
      ioWait: db.io,
      inTransaction: db.tx,
      sessions: db.sessions,
      waits,
      transactions: db.xacts - ownTransactions
    })
  }).pipe(Effect.ignore)
  return { samples, own, sample }
}
