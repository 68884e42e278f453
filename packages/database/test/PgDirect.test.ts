import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Database from "../src/Database.js"
import * as PgDirect from "../src/PgDirect.js"
import * as TestDatabase from "../src/TestDatabase.js"

describe("PgDirect.query", () => {
  layer(TestDatabase.layer, { excludeTestServices: true })((it) => {
    it.effect("returns the rows with camelCase column names, nested JSON as built", () =>
      Effect.gen(function*() {
        const rows = yield* PgDirect.query<{ totalCents: number; lineItems: unknown }>(
          `SELECT $1::int AS total_cents, json_build_object('unitPriceCents', 5) AS line_items`,
          [42]
        )
        assert.deepStrictEqual(rows, [{ totalCents: 42, lineItems: { unitPriceCents: 5 } }])
      }))

    it.effect("inside sql.withTransaction it runs on the transaction's connection", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        let inside = -1
        const outcome = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO users (email, name, password_hash) VALUES ('tx@example.com', 'T', 'x')`
          const [row] = yield* PgDirect.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM users WHERE email = $1`,
            ["tx@example.com"]
          )
          inside = row.n
          return yield* Effect.fail("roll back" as const)
        })).pipe(Effect.flip)
        assert.strictEqual(outcome, "roll back")
        assert.strictEqual(inside, 1, "the transaction's own insert is seen")
        const [after] = yield* PgDirect.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`, [])
        assert.strictEqual(after.n, 0, "the rolled-back insert is not seen outside the transaction")
      }))

    it.effect("with camelCase: false the rows keep the names the statement gives, on the pool and in a transaction", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const asNamed = PgDirect.queryOn(yield* PgDirect.PgPool, { camelCase: false })
        const text = `SELECT 1 AS total_cents, 2 AS "unitPriceCents"`
        const expected = [{ total_cents: 1, unitPriceCents: 2 }]
        assert.deepStrictEqual(yield* asNamed(text, []), expected)
        assert.deepStrictEqual(yield* sql.withTransaction(asNamed(text, [])), expected)
      }))

    it.effect("a statement error is a SqlError saying so", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(PgDirect.query(`SELECT * FROM no_such_table`, []))
        assert.strictEqual(error._tag, "SqlError")
        assert.strictEqual(error.message, "Failed to execute statement")
      }))
  })

  it.live("no free connection within the connect timeout: SqlError \"Failed to acquire connection\"", () =>
    Effect.gen(function*() {
      const url = yield* TestDatabase.create(yield* TestDatabase.adminUrl)
      const context = yield* Layer.build(Database.layerFromUrl({
        url,
        poolSize: 1,
        connectTimeout: Duration.millis(200),
        idleTimeout: Duration.seconds(5)
      }))
      const sql = Context.get(context, SqlClient.SqlClient)
      // the pool's only connection stays in a transaction until the checkout below has failed
      const release = yield* TestDatabase.holdConnection(sql)
      const error = yield* Effect.flip(Effect.provide(PgDirect.query(`SELECT 1`, []), context))
      yield* release
      assert.strictEqual(error.message, "Failed to acquire connection")
    }).pipe(Effect.scoped))
})
