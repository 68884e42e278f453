/**
 * The whole service as one Layer. Release order is the reverse of build order and comes only from
 * `Layer.provide` chains (merged layers are released in parallel):
 *
 *   Database → carrier (SDK, or the in-process simulator) → Mailer → BackgroundTasks →
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

const ServicesLive = Layer.mergeAll(Users.layer, Orders.layer).pipe(Layer.provideMerge(Outbox.layer))

export const ShopLive = HttpLive.pipe(
  Layer.provideMerge(Tracking.layer),
  Layer.provideMerge(Bookings.layer),
  Layer.provideMerge(OutboxSweeper.layer),
  Layer.provideMerge(Fulfillment.layer),
  Layer.provideMerge(ServicesLive),
  Layer.provideMerge(BackgroundTasks.layerConfig()),
  Layer.provideMerge(Mailer.layer),
  Layer.provideMerge(Carrier.layer),
  Layer.provide(DatabaseReadinessLive),
  Layer.provide(DatabaseCloseLogLive),
  Layer.provideMerge(Database.layerMigrated),
  Layer.provideMerge(ShopConfig.layer)
)
