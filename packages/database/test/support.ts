import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/**
 * A temporary directory, deleted with the scope. World-readable: as root, PostgreSQL runs as the
 * `postgres` OS user, which must be able to reach a data directory created inside it.
 */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "shop-database-test-"))
    Fs.chmodSync(dir, 0o755)
    return dir
  }),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** `SELECT 1` over a fresh connection to `url`. */
export const selectOne = (url: Redacted.Redacted) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ one: number }>`SELECT 1 AS one`).pipe(
    Effect.provide(PgClient.layer({ url, connectTimeout: Duration.seconds(5), maxConnections: 1 }))
  )

/** The PostgreSQL error code (`23505` unique violation, `23514` check violation, ...) behind a SqlError. */
export const pgCode = (error: { readonly cause?: unknown }): unknown => (error.cause as { code?: unknown })?.code
