/**
 * The shop's own settings, read once through `Config` (environment variables by default).
 * Settings of the parts it is built from (`DATABASE_*`, `PORT`, `HTTP_DRAIN_TIMEOUT`, …) are read
 * by those parts; the README lists them all.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const duration = (name: string, fallback: Duration.DurationInput) =>
  Config.duration(name).pipe(Config.withDefault(Duration.decode(fallback)))

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 })
  )

export const shopConfig = Config.all({
  fulfillmentInterval: duration("FULFILLMENT_INTERVAL", "1 second"),
  fulfillmentBatch: positive("FULFILLMENT_BATCH", 100),
  /** `statement_timeout` of one fulfillment tick; the tick is aborted (rolled back) a second later. */
  fulfillmentStatementTimeout: duration("FULFILLMENT_STATEMENT_TIMEOUT", "5 seconds"),
  outboxSweepInterval: duration("OUTBOX_SWEEP_INTERVAL", "5 seconds"),
  /** How long a delivery attempt owns an outbox row; after a crash the row is retried once it passed. */
  outboxLease: duration("OUTBOX_LEASE", "30 seconds"),
  backgroundTasksTimeout: duration("BACKGROUND_TASKS_TIMEOUT", "10 seconds"),
  mailDir: Config.string("MAIL_DIR").pipe(Config.withDefault(".data/mail")),
  mailFrom: Config.string("MAIL_FROM").pipe(Config.withDefault("shop@localhost")),
  smtpUrl: Config.option(Config.redacted("SMTP_URL")),
  /** Unset: an in-process carrier simulator (the development default). */
  carrierUrl: Config.option(Config.string("CARRIER_URL")),
  carrierConcurrency: positive("CARRIER_CONCURRENCY", 32),
  /** How long a replica owns a claimed order; after a crash another replica books it once this passed. */
  carrierLease: duration("CARRIER_LEASE", "30 seconds"),
  carrierMaxAttempts: positive("CARRIER_MAX_ATTEMPTS", 5),
  carrierRetryBase: duration("CARRIER_RETRY_BASE", "1 second"),
  carrierRetryMax: duration("CARRIER_RETRY_MAX", "1 minute"),
  carrierTimeout: duration("CARRIER_TIMEOUT", "10 seconds"),
  carrierDispatchInterval: duration("CARRIER_DISPATCH_INTERVAL", "200 millis"),
  /** In-flight bookings may take this long at shutdown before they are interrupted and released. */
  carrierShutdownTimeout: duration("CARRIER_SHUTDOWN_TIMEOUT", "15 seconds")
})

export type ShopConfigShape = Config.Config.Success<typeof shopConfig>

export class ShopConfig extends Context.Tag("shop/ShopConfig")<ShopConfig, ShopConfigShape>() {
  static readonly layer = Layer.effect(ShopConfig, Effect.orDie(shopConfig))
}
