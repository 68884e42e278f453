/**
 * A fresh database `drill_<random>` on the server of `DATABASE_URL`, dropped (`WITH (FORCE)`) when
 * the drill's scope closes — on success, failure and Ctrl-C alike. The shops create the schema
 * (their migrations are safe to run concurrently); the drill only reads it.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import { BenchError } from "../BenchError.js"

export interface DrillDatabase {
  readonly name: string
  /** The drill database's URL, for the shops. */
  readonly url: string
  /** `host:port`, without credentials, for the report. */
  readonly server: string
  readonly version: string
  /** A small pool on the drill database (for the quiet wait and the checker). */
  readonly sql: PgClient.PgClient
}

const connect = (url: string, maxConnections: number) =>
  Layer.build(PgClient.layer({
    url: Redacted.make(url),
    maxConnections,
    connectTimeout: Duration.seconds(5)
  })).pipe(Effect.map(Context.get(PgClient.PgClient)))

export const create = (adminUrl: string): Effect.Effect<DrillDatabase, BenchError, Scope.Scope> =>
  Effect.gen(function*() {
    const parsed = yield* Effect.try({
      try: () => new URL(adminUrl),
      catch: () => new BenchError({ message: "DATABASE_URL is not a URL" })
    })
    const server = `${parsed.hostname}:${parsed.port || "5432"}`
    const admin = yield* Effect.scoped(Effect.gen(function*() {
      const admin = yield* connect(adminUrl, 1)
      const [{ version }] = yield* admin<{ version: string }>`SELECT current_setting('server_version') AS version`
      return { version }
    }))
    const name = `drill_${Crypto.randomBytes(5).toString("hex")}`
    // The admin pool lives until the very end: the DROP runs after every shop and our own pool are gone.
    const adminSql = yield* connect(adminUrl, 1)
    yield* Effect.acquireRelease(
      adminSql`CREATE DATABASE ${adminSql(name)}`,
      () =>
        adminSql`DROP DATABASE IF EXISTS ${adminSql(name)} WITH (FORCE)`.pipe(
          Effect.tap(() => Effect.sync(() => console.error(`drill: dropped database ${name}`))),
          Effect.catchAllCause((cause) => Effect.logWarning(`could not drop database ${name}`, cause))
        )
    )
    parsed.pathname = `/${name}`
    const url = parsed.toString()
    const sql = yield* connect(url, 3)
    return { name, url, server, version: admin.version.split(" ")[0], sql }
  }).pipe(
    Effect.mapError((cause) =>
      cause instanceof BenchError
        ? cause
        : new BenchError({ message: `database setup failed on DATABASE_URL: ${cause.message}`, cause })
    )
  )
