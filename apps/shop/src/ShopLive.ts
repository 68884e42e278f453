/**
 * The whole service as one Layer, in four stages. Each stage is built on the one before it through
 * `Layer.provideMerge`, so it is released before it: on shutdown the edge drains first, then the
 * workers stop, then the services go, and the infrastructure — the database last — closes after
 * everything that used it. (Inside a stage, too, order comes only from `provideMerge` chains: merged
 * layers are built and released in parallel, so only layers whose order does not matter are merged.)
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
import { Orders } from "./Orders.js"
import { Outbox, OutboxSweeper } from "./Outbox.js"
import { ShopConfig } from "./ShopConfig.js"
import { Tracking } from "./Tracking.js"
import { Users } from "./Users.js"

/** `/readyz` fails while the database does not answer within a second. */
export const DatabaseReadinessLive = Layer.scopedDiscard(Effect.gen(function*() {
  const lifecycle = yield* Lifecycle.Lifecycle
  const sql = yield* SqlClient.SqlClient
  yield* lifecycle.addReadinessCheck("database", Effect.provideService(Database.ping, SqlClient.SqlClient, sql))
}))

/** Marks in the shutdown log the moment the pool (and an embedded server) start closing. */
const DatabaseCloseLogLive = Layer.scopedDiscard(
  Effect.addFinalizer(() => Effect.log("shutdown: closing the database pool (last)"))
)

/**
 * 1. Infrastructure, released last to first: the background-task wait-group (its running e-mails are
 * awaited), the mailer, the carrier client (and the in-process simulator, in development), the
 * database pool (and the embedded server) — last of all.
 */
export const InfrastructureLive = BackgroundTasks.layerConfig().pipe(
  Layer.provideMerge(Mailer.layer),
  Layer.provideMerge(Carrier.layer),
  Layer.provide(DatabaseReadinessLive),
  Layer.provide(DatabaseCloseLogLive),
  Layer.provideMerge(Database.layerMigrated),
  Layer.provideMerge(ShopConfig.layer)
)

/** 2. Services: what requests and workers call. The outbox before sign-ups, which write to it. */
export const ServicesLive = Layer.mergeAll(Users.layer, Orders.layer).pipe(Layer.provideMerge(Outbox.layer))

/**
 * 3. Workers, stopped first to last: the tracking feed stops admitting events; the booking
 * dispatcher stops claiming, queued bookings are released and in-flight ones finish; the outbox
 * sweeper and the fulfillment worker stop at a tick boundary.
 */
export const WorkersLive = Tracking.layer.pipe(
  Layer.provideMerge(Bookings.layer),
  Layer.provideMerge(OutboxSweeper.layer),
  Layer.provideMerge(Fulfillment.layer)
)

/** 4. The edge: the HTTP server (GracefulHttp) and the API, drained first (see `Http.ts`). */
export const EdgeLive = HttpLive

export const ShopLive = EdgeLive.pipe(
  Layer.provideMerge(WorkersLive),
  Layer.provideMerge(ServicesLive),
  Layer.provideMerge(InfrastructureLive)
)
