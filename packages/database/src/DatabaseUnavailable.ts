/**
 * The one place that tells a database out of reach from a bug. A `SqlError` is either: no pooled
 * connection within the connect timeout (saturated or down), or a connection that died under a query
 * (server restart, killed backend, a server starting up or shutting down) — the service is degraded
 * and the caller may retry; or anything else (a syntax error, a violated constraint nobody handles) —
 * a defect. {@link refine} classifies once, where a service calls the database, so callers see a
 * typed error in their signature instead of matching defect messages later.
 *
 * @since 0.2.0
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"

// The messages of @effect/sql-pg (pool acquisition), of PgDirect (which copies them), of node-postgres
// and of the server's own FATAL errors (57P01, 57P03) for the cases above.
const connectionLost =
  /^Failed to acquire connection|^Connection error|Connection terminated|not queryable|ECONNREFUSED|ECONNRESET|terminating connection|the database system is (starting up|shutting down|in recovery mode)/

/**
 * Whether `error` means the database is out of reach (retry later), not that the statement is wrong.
 *
 * @since 0.2.0
 * @category predicates
 */
export const is = (error: SqlError): boolean =>
  connectionLost.test(error.message) || (error.cause instanceof Error && connectionLost.test(error.cause.message))

const isSqlError = (error: unknown): error is SqlError => Predicate.isTagged(error, "SqlError")

/**
 * Takes `SqlError` out of an effect's error channel: a database out of reach fails with
 * `onUnavailable(error)` (logged as a warning, with the driver's error), any other `SqlError` dies.
 *
 * @since 0.2.0
 * @category combinators
 */
export const refine =
  <E2>(onUnavailable: (error: SqlError) => E2) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, SqlError> | E2, R> =>
    Effect.catchIf(
      self,
      isSqlError,
      (error) =>
        is(error)
          ? Effect.zipRight(Effect.logWarning("database unavailable", error), Effect.fail(onUnavailable(error)))
          : Effect.die(error)
    ) as Effect.Effect<A, Exclude<E, SqlError> | E2, R>
