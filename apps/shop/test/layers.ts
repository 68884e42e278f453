/**
 * Layers for testing one part of the shop: the part's own layer on top of {@link infrastructure} (a
 * fresh migrated database, the shop's settings, the mailer, background tasks), instead of the whole
 * `ShopLive`. Booting the HTTP server, the workers and the carrier simulator for a test of one
 * service costs time and hides what the test depends on.
 *
 * Each layer here is a new database when it is built: provide it per test (`Effect.provide`) for
 * tests that count rows, or share it in a file with `layer(...)` from `@effect/vitest`.
 */
import { Database } from "@shop/database"
import { TestDatabase } from "@shop/database/testing"
import { CreateOrder } from "@shop/domain/Order"
import { BackgroundTasks, GracefulHttp, Lifecycle } from "@shop/lifecycle"
import { TempDir } from "@shop/process-harness"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { Bookings } from "../src/Bookings.js"
import { Carrier } from "../src/Carrier.js"
import { Fulfillment } from "../src/Fulfillment.js"
import { Mailer } from "../src/Mailer.js"
import { Orders } from "../src/Orders.js"
import { ShopConfig } from "../src/ShopConfig.js"
import { DatabaseReadinessLive, EdgeLive, ServicesLive } from "../src/ShopLive.js"
import { anOrder, clientFor, firstTick, type ShopClient } from "./fixtures.js"

/**
 * What every test starts from: the fulfillment worker and the outbox sweeper tick only when a test
 * asks (trigger, or a call of the service), the server binds an ephemeral port.
 */
export const testSettings: Readonly<Record<string, string>> = {
  PORT: "0",
  HOST: "127.0.0.1",
  FULFILLMENT_INTERVAL: "1 hour",
  OUTBOX_SWEEP_INTERVAL: "1 hour",
  // the in-process carrier simulator (when no CARRIER_URL is given), fast
  CARRIER_SIM_LATENCY: "20 millis",
  CARRIER_SIM_JITTER: "5 millis",
  CARRIER_SIM_IN_TRANSIT_AFTER: "30 millis",
  CARRIER_SIM_DELIVERED_AFTER: "60 millis"
}

/** `settings` as the configuration the layers it is provided to read (instead of the environment). */
export const settingsLayer = (settings: Readonly<Record<string, string>>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(settings))))

/** The log lines of the layers and the test, kept for assertions instead of printed. */
export class TestLogs extends Context.Tag("test/TestLogs")<TestLogs, {
  readonly lines: ReadonlyArray<string>
}>() {
  static readonly layer = Layer.unwrapEffect(Effect.sync(() => {
    const lines: Array<string> = []
    const capture = Logger.make(({ message }) => {
      lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    return Layer.merge(Layer.succeed(TestLogs, { lines }), Logger.replace(Logger.defaultLogger, capture))
  }))
}

/** A fresh database for the scope (dropped with it): pass it to several `startShop`s to share it. */
export const freshDatabase = Effect.flatMap(TestDatabase.adminUrl, TestDatabase.create)

/**
 * A mail directory for the scope (removed with it), a fresh database unless `databaseUrl` is given, and
 * the settings that point the shop at them: {@link testSettings}, then `DATABASE_URL` and `MAIL_DIR`,
 * then `settings`.
 */
export const testEnvironment = (settings: Readonly<Record<string, string>> = {}, databaseUrl?: Redacted.Redacted) =>
  Effect.gen(function*() {
    const url = databaseUrl ?? (yield* freshDatabase)
    const mailDir = yield* TempDir.tempDir("shop-mail-")
    return { ...testSettings, DATABASE_URL: Redacted.value(url), MAIL_DIR: mailDir, ...settings }
  }).pipe(Effect.orDie)

/** `layer` built on a {@link testEnvironment} of its own, every part of it reading the same settings. */
const onTestEnvironment = <A, E>(settings: Readonly<Record<string, string>>, layer: Layer.Layer<A, E>) =>
  Layer.unwrapScoped(
    Effect.map(testEnvironment(settings), (environment) => Layer.provide(layer, settingsLayer(environment)))
  ).pipe(Layer.orDie)

/**
 * The shop's own database layer (migrated; it reads its settings as in production:
 * `DATABASE_POOL_SIZE`, `DATABASE_CONNECT_TIMEOUT`, …), the shop's settings (`ShopConfig`), the file
 * mailer, background tasks, the lifecycle they register with and the database readiness check. Log
 * lines go to {@link TestLogs}.
 */
const InfrastructureTest = Layer.mergeAll(Mailer.layer, BackgroundTasks.layerConfig(), DatabaseReadinessLive).pipe(
  Layer.provideMerge(ShopConfig.layer),
  Layer.provideMerge(Database.layerMigrated),
  Layer.provideMerge(Lifecycle.layer),
  Layer.provideMerge(TestLogs.layer)
)

/** The services requests call (`Users`, `Orders`, `Outbox`). */
const ServicesTest = ServicesLive.pipe(Layer.provideMerge(InfrastructureTest))

/** {@link InfrastructureTest} on a fresh database. */
export const infrastructure = (settings: Readonly<Record<string, string>> = {}) =>
  onTestEnvironment(settings, InfrastructureTest)

/** The services requests call (`Users`, `Orders`, `Outbox`), on {@link infrastructure}. */
export const services = (settings: Readonly<Record<string, string>> = {}) => onTestEnvironment(settings, ServicesTest)

/** A typed client of the contract, for the server of {@link api}; `baseUrl` for what it cannot send. */
export class ApiClient extends Context.Tag("test/ApiClient")<
  ApiClient,
  ShopClient
>() {
  static readonly layer = Layer.effect(
    ApiClient,
    Effect.flatMap(GracefulHttp.GracefulHttp, ({ port }) => clientFor(`http://127.0.0.1:${port}`))
  )
}

/**
 * The API on a real server (the fast one unless `HTTP_SERVER=standard`) over {@link services}, and an
 * {@link ApiClient} for it: no workers, no carrier.
 */
export const api = (settings: Readonly<Record<string, string>> = {}) =>
  onTestEnvironment(settings, ApiClient.layer.pipe(Layer.provideMerge(EdgeLive), Layer.provideMerge(ServicesTest)))

/** The fulfillment worker on {@link infrastructure}, once its start-up tick is done. */
export const fulfillment = (settings: Readonly<Record<string, string>> = {}) =>
  onTestEnvironment(
    settings,
    Fulfillment.layer.pipe(
      Layer.tap((context) => firstTick(Context.get(context, Fulfillment).worker)),
      Layer.provideMerge(InfrastructureTest)
    )
  )

/**
 * The booking dispatcher and pool (`Bookings`) with the carrier client, on {@link services}, once the
 * dispatcher's start-up tick is done. `CARRIER_URL` in `settings` names the carrier (a fake, usually).
 */
export const bookings = (settings: Readonly<Record<string, string>> = {}) =>
  onTestEnvironment(
    // the dispatcher only claims when the test triggers it, unless the test says otherwise
    { CARRIER_DISPATCH_INTERVAL: "1 hour", ...settings },
    Bookings.layer.pipe(
      Layer.tap((context) => firstTick(Context.get(context, Bookings).dispatcher)),
      Layer.provideMerge(Carrier.layer),
      Layer.provideMerge(ServicesTest)
    )
  )

/** An order placed and paid through the `Orders` service, as the API would; returns its id. */
export const paidOrder = (email: string) =>
  Effect.gen(function*() {
    const orders = yield* Orders
    const { id } = yield* orders.create(Schema.decodeSync(CreateOrder)(anOrder(email)), undefined)
    yield* orders.transition(id, "paid")
    return id
  }).pipe(Effect.orDie)
