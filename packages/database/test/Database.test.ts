import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Database from "../src/Database.js"
import * as TestDatabase from "../src/TestDatabase.js"
import { tempDir } from "./support.js"

const withEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const currentDatabase = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ name: string }>`SELECT current_database() AS name`
)
  .pipe(Effect.map((rows) => rows[0]!.name))

describe("Database", () => {
  it.scopedLive("uses DATABASE_URL when it is set", () =>
    Effect.gen(function*() {
      const url = yield* TestDatabase.create(yield* TestDatabase.adminUrl)
      const layer = Database.layer.pipe(Layer.provide(withEnv({ DATABASE_URL: Redacted.value(url) })))
      const name = yield* Effect.zipRight(Database.ping, currentDatabase).pipe(Effect.provide(layer))
      assert.strictEqual(`/${name}`, new URL(Redacted.value(url)).pathname)
    }))

  it.scopedLive("without DATABASE_URL starts an embedded server in EMBEDDED_PG_DIR, stopped on release", () =>
    Effect.gen(function*() {
      const dir = Path.join(yield* tempDir, "postgres")
      // an empty value counts as unset, as CI often "unsets" that way
      const layer = Database.layerMigrated.pipe(Layer.provide(withEnv({ DATABASE_URL: "", EMBEDDED_PG_DIR: dir })))
      const user = yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(layer)
        assert.isTrue(Fs.existsSync(Path.join(dir, "postmaster.pid")))
        return yield* Effect.gen(function*() {
          yield* Database.ping
          const sql = yield* SqlClient.SqlClient
          // camelCase in, snake_case in the database, camelCase out
          const rows = yield* sql<{ id: string; passwordHash: string; createdAt: Date }>`INSERT INTO users ${
            sql.insert({ name: "Ada", email: "ada@example.com", passwordHash: "hash" })
          } RETURNING *`
          return rows[0]!
        }).pipe(Effect.provide(context))
      }))
      assert.strictEqual(user.passwordHash, "hash")
      assert.instanceOf(user.createdAt, Date)
      assert.isFalse(Fs.existsSync(Path.join(dir, "postmaster.pid")), "the server stopped with the layer")
    }))

  it.scopedLive("ping fails within its timeout when no connection is free", () =>
    Effect.gen(function*() {
      const url = yield* TestDatabase.create(yield* TestDatabase.adminUrl)
      const context = yield* Layer.build(
        Database.layerFromUrl({ url, poolSize: 1, connectTimeout: "5 seconds", idleTimeout: "10 seconds" })
      )
      const sql = yield* Effect.provide(SqlClient.SqlClient, context)
      const holding = yield* Deferred.make<void>()
      // the only connection stays checked out by a transaction
      yield* sql.withTransaction(Effect.zipRight(Deferred.succeed(holding, void 0), Effect.never)).pipe(
        Effect.forkScoped
      )
      yield* Deferred.await(holding)
      const error = yield* Effect.flip(Database.pingWithin("200 millis").pipe(Effect.provide(context)))
      assert.strictEqual(error._tag, "TimeoutException")
    }))

  it.effect("rejects a pool size below 1", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Database.config).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_POOL_SIZE", "0"]])))
      )
      assert.include(String(error), "must be at least 1")
    }))
})
