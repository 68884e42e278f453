/**
 * A fresh, migrated database per test file, on the server from `globalSetup.ts`. Test files run in
 * parallel, so each gets its own database rather than truncating a shared one.
 *
 * @since 0.1.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as PgMigrator from "@effect/sql-pg/PgMigrator"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import { inject } from "vitest"
import * as Database from "./Database.js"
import type {} from "./globalSetup.js" // the `ProvidedContext` augmentation for `inject("databaseUrl")`
import * as Migrations from "./Migrations.js"
import type * as PgDirect from "./PgDirect.js"

/**
 * @since 0.1.0
 */
export interface Options {
  /** Apply the shop migrations (default `true`); `false` gives an empty database. */
  readonly migrate?: boolean | undefined
}

/**
 * The admin URL provided by the global setup.
 *
 * @since 0.1.0
 */
export const adminUrl: Effect.Effect<Redacted.Redacted> = Effect.sync(() => Redacted.make(inject("databaseUrl")))

/**
 * `adminUrl` with its database replaced by `database`; user, password, host and parameters are kept.
 *
 * @since 0.1.0
 */
export const urlFor = (adminUrl: Redacted.Redacted, database: string): Redacted.Redacted => {
  const url = new URL(Redacted.value(adminUrl))
  url.pathname = `/${encodeURIComponent(database)}`
  return Redacted.make(url.toString())
}

/**
 * Creates a database named `test_<random>` and drops it (`WITH (FORCE)`, closing stray connections)
 * when the scope closes. Returns its URL. The name comes from `node:crypto`, not Effect's `Random`,
 * which `TestRandom` would make identical in every test file.
 *
 * @since 0.1.0
 */
export const create: (adminUrl: Redacted.Redacted) => Effect.Effect<Redacted.Redacted, SqlError, Scope.Scope> = Effect
  .fn("TestDatabase.create")(function*(adminUrl: Redacted.Redacted) {
    const name = `test_${Crypto.randomBytes(8).toString("hex")}`
    const admin = Context.get(
      yield* Layer.build(PgClient.layer({ url: adminUrl, maxConnections: 1, connectTimeout: Duration.seconds(5) })),
      PgClient.PgClient
    )
    yield* Effect.acquireRelease(
      admin`CREATE DATABASE ${admin(name)}`,
      () =>
        admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`.pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(`could not drop test database ${name}`, cause))
        )
    )
    return urlFor(adminUrl, name)
  })

/**
 * A client (with the shop's transforms) for a new database on the server at `adminUrl`, migrated
 * unless `options.migrate` is `false`. Each call is a distinct layer, hence a distinct database.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFrom = (
  adminUrl: Redacted.Redacted,
  options?: Options
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | PgDirect.PgPool, SqlError | PgMigrator.MigrationError> =>
  Layer.unwrapScoped(Effect.map(create(adminUrl), (url) => {
    // released before the scope above, so the pool is closed before the database is dropped
    const client = Database.layerFromUrl({
      url,
      poolSize: 5,
      connectTimeout: Duration.seconds(5),
      idleTimeout: Duration.seconds(10)
    })
    return options?.migrate === false ? client : Layer.provideMerge(Migrations.layer, client)
  }))

/**
 * A migrated database for one test file: `layer(TestDatabase.layer, { excludeTestServices: true })(...)`
 * with `layer` from `@effect/vitest` (its `it.layer` does not take that option in 0.30), or
 * `Effect.provide` in `it.live`. PgClient's timeouts run on the Effect clock: never under `TestClock`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  PgClient.PgClient | SqlClient.SqlClient | PgDirect.PgPool,
  SqlError | PgMigrator.MigrationError
> = Layer
  .unwrapEffect(Effect.map(adminUrl, (url) => layerFrom(url)))

/**
 * Runs `statement` in a transaction on one of `sql`'s pooled connections and keeps the transaction
 * open: what it took (a connection, row locks) stays taken. Returns the effect that lets it go and
 * waits until the transaction ended; the scope's end lets it go too.
 */
const holdInTransaction = <A, E>(
  sql: SqlClient.SqlClient,
  statement: Effect.Effect<A, E>
): Effect.Effect<Effect.Effect<void>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const held = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const holder = yield* sql.withTransaction(
      statement.pipe(Effect.zipRight(Deferred.succeed(held, undefined)), Effect.zipRight(Deferred.await(release)))
    ).pipe(Effect.orDie, Effect.forkScoped)
    yield* Deferred.await(held)
    return Effect.zipRight(Deferred.succeed(release, undefined), Fiber.join(holder))
  })

/**
 * Takes one of `sql`'s pooled connections and keeps it in an open transaction, so a pool of one has
 * nothing to give. Returns the effect that lets it go (and waits until it is back in the pool); the
 * scope's end lets it go too.
 *
 * @since 0.2.0
 */
export const holdConnection = (sql: SqlClient.SqlClient): Effect.Effect<Effect.Effect<void>, never, Scope.Scope> =>
  holdInTransaction(sql, Effect.void)

/**
 * Takes the row lock of row `id` of `table` (`SELECT … FOR UPDATE`) in an open transaction, as another
 * replica's claim or a concurrent request would. Statements that want the row wait (or skip it, with
 * `SKIP LOCKED`) until the returned effect lets it go; the scope's end lets it go too. Its waiters are
 * served in turn, in the order they queued.
 *
 * @since 0.2.0
 */
export const holdRowLock = (
  sql: SqlClient.SqlClient,
  table: string,
  id: number
): Effect.Effect<Effect.Effect<void>, never, Scope.Scope> =>
  holdInTransaction(sql, sql`SELECT id FROM ${sql(table)} WHERE id = ${id} FOR UPDATE`)
