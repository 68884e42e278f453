/**
 * The one PostgreSQL server every stack of the comparison runs on, as an admin URL: each stack creates
 * fresh databases on it with the shop's migrations (`PeerRun.freshDatabase`). `DATABASE_URL` given:
 * that server; otherwise (or when it cannot be reached) an embedded server of our own in a temporary
 * directory — not the shop's, which only a shop process can start and which would stop with it.
 */
import * as EmbeddedPostgres from "@shop/database/EmbeddedPostgres"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as BenchDatabase from "../BenchDatabase.js"
import { BenchError } from "../BenchError.js"

export interface Server {
  readonly adminUrl: Redacted.Redacted
  /** e.g. `PostgreSQL 15.20 (external, 127.0.0.1:5432)` */
  readonly description: string
}

const versionOf = (adminUrl: Redacted.Redacted) =>
  Effect.scoped(Effect.gen(function*() {
    const sql = yield* BenchDatabase.connect(adminUrl, 1)
    const [{ version }] = yield* sql<{ version: string }>`SELECT current_setting('server_version') AS version`
    return version.split(" ")[0]
  })).pipe(Effect.mapError((cause) =>
    cause instanceof BenchError ? cause : new BenchError({ message: `PostgreSQL: ${cause.message}`, cause })
  ))

const embedded = Effect.gen(function*() {
  // acquired before the server, so released after it: the server stops, then its directory goes
  const dataDir = yield* BenchDatabase.tempDir("shop-compare-pg-")
  const server = yield* EmbeddedPostgres.make({ dataDir }).pipe(
    Effect.mapError((cause) => new BenchError({ message: `embedded PostgreSQL: ${cause.message}`, cause }))
  )
  const version = yield* versionOf(server.url)
  const described: Server = {
    adminUrl: server.url,
    description: `PostgreSQL ${version} (embedded, 127.0.0.1:${server.port})`
  }
  return described
})

export const acquire = (
  databaseUrl: Option.Option<Redacted.Redacted>
): Effect.Effect<Server, BenchError, Scope.Scope> =>
  BenchDatabase.externalOrEmbedded(
    databaseUrl,
    (adminUrl) =>
      Effect.map(versionOf(adminUrl), (version): Server => ({
        adminUrl,
        description: `PostgreSQL ${version} (external, ${BenchDatabase.hostOf(adminUrl)})`
      })),
    embedded
  )
