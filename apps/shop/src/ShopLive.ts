/**
 * The whole service as one Layer. Release order is the reverse of build order and comes only from
 * `Layer.provide` chains (merged layers are released in parallel):
 *
 *   Database → carrier (SDK, or the in-process simulator) → Mailer, Metrics → BackgroundTasks →
 *   Outbox, Users, Orders → Fulfillment, sweeper → carrier bookings (dispatcher + pool) → tracking feed → HTTP
 *
 * so on shutdown HTTP drains first (its handlers still have everything), then the feed stops
 * admitting, queued bookings are released and in-flight ones finish, the workers stop at a tick
 * boundary, background e-mails finish, the simulator stops, and the database closes last.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Database } from "@shop/database"
import { BackgroundTasks, Lifecycle } from "@shop/lifecycle"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Bookings } from "./Bookings.js"
import { Carrier } from "./Carrier.js"
import { Fulfillment } from "./Fulfillment.js"
import { HttpLive } from "./Http.js"
import { Mailer } from "./Mailer.js"
import { Metrics } from "./Metrics.js"
import { Orders } from "./Orders.js"
import { Outbox, OutboxSweeper } from "./Outbox.js"
import { ShopConfig } from "./ShopConfig.js"
import { Tracking } from "./Tracking.js"
import { Users } from "./Users.js"

/** `/readyz` fails while the database does not answer within a second. */
const DatabaseReadinessLive = Layer.scopedDiscard(Effect.gen(function*() {
  const lifecycle = yield* Lifecycle.Lifecycle
  const sql = yield* SqlClient.SqlClient
  yield* lifecycle.addReadinessCheck("database", Effect.provideService(Database.ping, SqlClient.SqlClient, sql))
}))

/** Marks in the shutdown log the moment the pool (and an embedded server) start closing. */
const DatabaseCloseLogLive = Layer.scopedDiscard(
  Effect.addFinalizer(() => Effect.log("shutdown: closing the database pool (last)"))
)

/** Gauges read at scrape time: worker, background tasks, shutdown phase. */
const LifecycleMetricsLive = Layer.effectDiscard(Effect.gen(function*() {
  const metrics = yield* Metrics
  const lifecycle = yield* Lifecycle.Lifecycle
  const tasks = yield* BackgroundTasks.BackgroundTasks
  const fulfillment = yield* Fulfillment
  yield* metrics.addCollector(Effect.gen(function*() {
    const phase = yield* lifecycle.phase
    const taskStats = yield* tasks.stats
    const workerStats = yield* fulfillment.worker.stats
    return [
      ...(["running", "draining", "stopping", "stopped"] as const).map((p) => ({
        name: "shop_lifecycle_phase",
        help: "1 for the current lifecycle phase",
        type: "gauge" as const,
        labels: { phase: p },
        value: p === phase ? 1 : 0
      })),
      {
        name: "shop_background_tasks_running",
        help: "Background tasks running",
        type: "gauge",
        value: taskStats.running
      },
      ...(["completed", "failed", "interrupted", "refused"] as const).map((outcome) => ({
        name: "shop_background_tasks_total",
        help: "Background tasks by outcome",
        type: "counter" as const,
        labels: { outcome },
        value: taskStats[outcome]
      })),
      {
        name: "shop_fulfillment_tick_failures_total",
        help: "Fulfillment ticks that failed",
        type: "counter",
        value: workerStats.failures
      }
    ]
  }))
}))

/** Feed lag, read at scrape time. */
const TrackingMetricsLive = Layer.effectDiscard(Effect.gen(function*() {
  const metrics = yield* Metrics
  const tracking = yield* Tracking
  yield* metrics.addCollector(Effect.map(tracking.stats, (stats) => [
    {
      name: "shop_tracking_feed_lag_seconds",
      help: "Age of the last tracking event processed when it was processed",
      type: "gauge",
      value: stats.lagSeconds
    }
  ]))
}))

const ServicesLive = Layer.mergeAll(Users.layer, Orders.layer).pipe(Layer.provideMerge(Outbox.layer))

export const ShopLive = HttpLive.pipe(
  Layer.provide(LifecycleMetricsLive),
  Layer.provide(TrackingMetricsLive),
  Layer.provideMerge(Tracking.layer),
  Layer.provideMerge(Bookings.layer),
  Layer.provideMerge(OutboxSweeper.layer),
  Layer.provideMerge(Fulfillment.layer),
  Layer.provideMerge(ServicesLive),
  Layer.provideMerge(BackgroundTasks.layerConfig),
  Layer.provideMerge(Layer.mergeAll(Mailer.layer, Metrics.layer)),
  Layer.provideMerge(Carrier.layer),
  Layer.provide(DatabaseReadinessLive),
  Layer.provide(DatabaseCloseLogLive),
  Layer.provideMerge(Database.layerMigrated),
  Layer.provideMerge(ShopConfig.layer)
)
