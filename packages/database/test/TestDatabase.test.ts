import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestDatabase from "../src/TestDatabase.js"

const currentDatabase = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ name: string }>`SELECT current_database() AS name`
)
  .pipe(Effect.map((rows) => rows[0]!.name))

const userCount = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM users`)
  .pipe(Effect.map((rows) => rows[0]!.n))

describe("TestDatabase", () => {
  it.scopedLive("gives each layer its own migrated database and drops it on release", () =>
    Effect.gen(function*() {
      const adminUrl = yield* TestDatabase.adminUrl
      const [a, b] = [TestDatabase.layerFrom(adminUrl), TestDatabase.layerFrom(adminUrl)]
      const names = yield* Effect.scoped(Effect.gen(function*() {
        const contextA = yield* Layer.build(a)
        const contextB = yield* Layer.build(b)
        const nameA = yield* Effect.provide(currentDatabase, contextA)
        const nameB = yield* Effect.provide(currentDatabase, contextB)
        assert.match(nameA, /^test_[0-9a-f]{16}$/)
        assert.notStrictEqual(nameA, nameB)

        yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql`INSERT INTO users ${sql.insert({ name: "Ada", email: "ada@example.com", passwordHash: "x" })}`).pipe(
            Effect.provide(contextA)
          )
        assert.strictEqual(yield* Effect.provide(userCount, contextA), 1)
        assert.strictEqual(yield* Effect.provide(userCount, contextB), 0)
        return [nameA, nameB]
      }))

      const left = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql`SELECT datname FROM pg_database WHERE datname IN ${sql.in(names)}`
      ).pipe(Effect.provide(TestDatabase.layerFrom(adminUrl, { migrate: false })))
      assert.deepStrictEqual(left, [])
    }))

  it.live("urlFor swaps only the database", () =>
    Effect.sync(() => {
      const url = TestDatabase.urlFor(
        Redacted.make("postgres://u:p%40ss@127.0.0.1:5433/test?sslmode=disable"),
        "test_1"
      )
      assert.strictEqual(Redacted.value(url), "postgres://u:p%40ss@127.0.0.1:5433/test_1?sslmode=disable")
    }))
})
