/**
 * Statements straight on the `pg` pool under the shop's `PgClient`, for the few that every request
 * runs. A `SqlClient` statement pays, per execution, for a span (a no-op one when tracing is off), a
 * Scope, compiling its fragments to text and transforming every row and nested JSON value — more CPU
 * than `pg` itself spends (apps/bench/README.md, "Where the misses come from"). {@link query} takes
 * text already written and transforms only the row's own column names.
 *
 * Same pool, same limits, same failures as the `SqlClient`: a `SqlError` whose message starts like
 * the client's ("Failed to acquire connection" when no connection came within the connect timeout),
 * and inside `sql.withTransaction` the statement runs on the transaction's connection.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as String from "effect/String"
import type Pg from "pg"

/**
 * The pool shared by the `PgClient` and {@link query}.
 *
 * @since 0.1.0
 * @category tags
 */
export class PgPool extends Context.Tag("@shop/database/PgPool")<PgPool, Pg.Pool>() {}

const names = new Map<string, string>()
/** snake_case → camelCase, as the client's `transformResultNames`; a handful of names, remembered. */
const camel = (name: string) => {
  let cached = names.get(name)
  if (cached === undefined) {
    cached = String.snakeToCamel(name)
    names.set(name, cached)
  }
  return cached
}

const camelRow = (row: Record<string, unknown>): any => {
  const out: Record<string, unknown> = {}
  for (const key in row) out[camel(key)] = row[key]
  return out
}

/** pg rejects a checkout that waited past `connectionTimeoutMillis` with this message. */
const isAcquireTimeout = (error: Error) => /timeout exceeded when trying to connect/.test(error.message)

const execute = <A>(pool: Pg.Pool, text: string, params: ReadonlyArray<unknown>, camelCase: boolean) =>
  Effect.async<ReadonlyArray<A>, SqlError>((resume) => {
    pool.query(text, params as Array<unknown>, (error: Error | undefined, result: Pg.QueryResult) => {
      if (error === undefined || error === null) {
        return resume(Effect.succeed(camelCase ? result.rows.map(camelRow) : result.rows))
      }
      const message = isAcquireTimeout(error) ? "Failed to acquire connection" : "Failed to execute statement"
      resume(Effect.fail(new SqlError({ cause: error, message })))
    })
  })

/**
 * @since 0.3.0
 */
export interface QueryOptions {
  /**
   * `true` (the default): column names are turned from snake_case into camelCase. `false`: the rows
   * keep the names the statement gives its columns — for a statement that already names them as the
   * caller wants (`total_cents AS "totalCents"`), which then skips a copy of every row.
   */
  readonly camelCase?: boolean | undefined
}

/**
 * {@link query} on a pool the caller holds: a service that took `PgPool` once, when it was built, runs
 * its statements without providing the pool on every call (which copies the fiber's whole context).
 *
 * @since 0.2.0
 */
export const queryOn = (pool: Pg.Pool, options?: QueryOptions) => {
  const camelCase = options?.camelCase ?? true
  return <A>(text: string, params: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, SqlError> =>
    // one look at the fiber for both: inside `sql.withTransaction`, and whether a tracer is on (a span as
    // the SqlClient opens one, only then: otherwise not even a no-op span)
    Effect.withFiberRuntime((fiber) => {
      const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
      const run = Option.isSome(transaction)
        ? Effect.map(
          transaction.value[0].execute(text, params, undefined),
          (rows) => (camelCase ? rows.map(camelRow) : rows) as ReadonlyArray<A>
        )
        : execute<A>(pool, text, params, camelCase)
      return fiber.getFiberRef(FiberRef.currentTracerEnabled)
        ? Effect.withSpan(run, "sql.execute", {
          kind: "client",
          captureStackTrace: false,
          attributes: { "db.system.name": "postgresql", "db.query.text": text }
        })
        : run
    })
}

/**
 * Runs `text` with `params` (`$1`, `$2`…) and returns the rows with camelCase column names. Nested
 * JSON values are returned as PostgreSQL built them: give their keys the wanted case in the SQL.
 * Interrupting it stops waiting for the answer; the statement itself runs to its end.
 *
 * @since 0.1.0
 */
export const query = <A>(text: string, params: ReadonlyArray<unknown>): Effect.Effect<
  ReadonlyArray<A>,
  SqlError,
  PgPool
> => Effect.flatMap(PgPool, (pool) => queryOn(pool)<A>(text, params))
