/**
 * The shop's `PgClient` / `SqlClient`, configured once: pool limits, timeouts and the
 * camelCase ⇄ snake_case transforms. Without `DATABASE_URL` it starts an embedded server.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as PgMigrator from "@effect/sql-pg/PgMigrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import type * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as String from "effect/String"
import Pg from "pg"
import * as EmbeddedPostgres from "./EmbeddedPostgres.js"
import * as Migrations from "./Migrations.js"
import * as PgDirect from "./PgDirect.js"

/**
 * @since 0.1.0
 */
export interface ClientOptions {
  readonly url: Redacted.Redacted
  /** Maximum pooled connections. */
  readonly poolSize: number
  /** Bounds opening a connection *and* waiting for a free one; `pg` would otherwise wait forever. */
  readonly connectTimeout: Duration.DurationInput
  /** Idle pooled connections are closed after this. */
  readonly idleTimeout: Duration.DurationInput
}

/**
 * @since 0.1.0
 */
export interface Settings extends Omit<ClientOptions, "url"> {
  /** `None` starts {@link EmbeddedPostgres}. */
  readonly url: Option.Option<Redacted.Redacted>
}

/**
 * `DATABASE_URL` (redacted, optional: absent or empty starts {@link EmbeddedPostgres}),
 * `DATABASE_POOL_SIZE` (default 10), `DATABASE_CONNECT_TIMEOUT` (default 5 seconds),
 * `DATABASE_IDLE_TIMEOUT` (default 30 seconds).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Settings> = Config.all({
  url: Config.option(Config.redacted("DATABASE_URL")).pipe(
    // CI and shells often "unset" by exporting an empty value
    Config.map(Option.filter((_) => Redacted.value(_).trim() !== ""))
  ),
  poolSize: Config.integer("DATABASE_POOL_SIZE").pipe(
    Config.withDefault(10),
    Config.validate({ message: "must be at least 1", validation: (_) => _ >= 1 })
  ),
  connectTimeout: Config.duration("DATABASE_CONNECT_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5))),
  idleTimeout: Config.duration("DATABASE_IDLE_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30)))
})

/**
 * A client for `options.url` with the shop's conventions: queries written in camelCase reach the
 * database in snake_case, and result columns come back in camelCase. Its pool is also provided as
 * `PgDirect.PgPool`, for the request path's statements. Built as `PgClient.layer` builds its own:
 * `SELECT 1` within the connect timeout, the pool ended (for at most a second) on release.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromUrl = (
  options: ClientOptions
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | PgDirect.PgPool, SqlError> => {
  const connectTimeout = Duration.decode(options.connectTimeout)
  const acquire = Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new Pg.Pool({
        connectionString: Redacted.value(options.url),
        connectionTimeoutMillis: Duration.toMillis(connectTimeout),
        idleTimeoutMillis: Duration.toMillis(options.idleTimeout),
        max: options.poolSize,
        application_name: "@effect/sql-pg"
      })
      // an idle client's error (the server went away): the next checkout reconnects or fails
      pool.on("error", () => {})
      return pool
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
  ).pipe(
    Effect.tap((pool) =>
      Effect.tryPromise({
        try: () => pool.query("SELECT 1"),
        catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
      }).pipe(Effect.timeoutFail({
        duration: connectTimeout,
        onTimeout: () =>
          new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
      }))
    )
  )
  return Layer.scopedContext(Effect.gen(function*() {
    const pool = yield* acquire
    const client = yield* PgClient.fromPool({
      acquire: Effect.succeed(pool),
      transformQueryNames: String.camelToSnake,
      transformResultNames: String.snakeToCamel
    })
    return Context.make(PgClient.PgClient, client).pipe(
      Context.add(SqlClient.SqlClient, client),
      Context.add(PgDirect.PgPool, pool)
    )
  })).pipe(Layer.provide(Reactivity.layer))
}

/**
 * The client from {@link config}. Without `DATABASE_URL` the embedded server is built first (through
 * `Layer.provide`, not a merge), so on release the pool closes before the server stops.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  PgClient.PgClient | SqlClient.SqlClient | PgDirect.PgPool,
  SqlError | EmbeddedPostgres.EmbeddedPostgresError | ConfigError.ConfigError
> = Layer.unwrapEffect(Effect.map(config, ({ url, ...options }) =>
  Option.match(url, {
    onSome: (url) => layerFromUrl({ ...options, url }),
    onNone: () =>
      Layer.unwrapEffect(
        Effect.map(EmbeddedPostgres.EmbeddedPostgres, (server) => layerFromUrl({ ...options, url: server.url }))
      ).pipe(Layer.provide(EmbeddedPostgres.layer))
  })))

/**
 * {@link layer} with {@link Migrations.run} applied before the client is handed out.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMigrated: Layer.Layer<
  PgClient.PgClient | SqlClient.SqlClient | PgDirect.PgPool,
  SqlError | PgMigrator.MigrationError | EmbeddedPostgres.EmbeddedPostgresError | ConfigError.ConfigError
> = Layer.provideMerge(Migrations.layer, layer)

/**
 * `SELECT 1`, for readiness checks: fails once `timeout` passes. `Effect.disconnect` lets the check
 * return on time even when interrupting the query itself is slow (a cancel needs another connection).
 *
 * @since 0.1.0
 */
export const pingWithin = (
  timeout: Duration.DurationInput
): Effect.Effect<void, SqlError | Cause.TimeoutException, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
    Effect.disconnect,
    Effect.timeout(timeout),
    Effect.asVoid,
    Effect.withSpan("Database.ping")
  )

/**
 * {@link pingWithin} one second, below the default Kubernetes probe timeout.
 *
 * @since 0.1.0
 */
export const ping: Effect.Effect<void, SqlError | Cause.TimeoutException, SqlClient.SqlClient> = pingWithin(
  Duration.seconds(1)
)
