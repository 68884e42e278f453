import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Database from "../src/Database.js"
import * as DatabaseUnavailable from "../src/DatabaseUnavailable.js"
import * as PgDirect from "../src/PgDirect.js"
import * as TestDatabase from "../src/TestDatabase.js"

class Busy {
  readonly _tag = "Busy"
}

const refine = DatabaseUnavailable.refine(() => new Busy())

/** A client with one connection that gives up waiting for it after 200 ms. */
const onePool = Effect.gen(function*() {
  const url = yield* TestDatabase.create(yield* TestDatabase.adminUrl)
  return yield* Layer.build(Database.layerFromUrl({
    url,
    poolSize: 1,
    connectTimeout: Duration.millis(200),
    idleTimeout: Duration.seconds(5)
  }))
})

describe("DatabaseUnavailable.refine", () => {
  it.scoped("a statement that is wrong is a defect, not a retryable failure", () =>
    Effect.gen(function*() {
      const sql = Context.get(yield* onePool, SqlClient.SqlClient)
      const exit = yield* Effect.exit(refine(sql`SELECT * FROM no_such_table`))
      assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Die", `a defect, got ${exit}`)
    }), { timeout: 30_000 })

  it.scoped("no pooled connection within the connect timeout fails with the typed error", () =>
    Effect.gen(function*() {
      const context = yield* onePool
      const sql = Context.get(context, SqlClient.SqlClient)
      const release = yield* TestDatabase.holdConnection(sql)
      const viaClient = yield* Effect.flip(refine(sql`SELECT 1`))
      const viaDirect = yield* Effect.flip(
        refine(PgDirect.query(`SELECT 1`, []).pipe(Effect.provide(context)))
      )
      assert.instanceOf(viaClient, Busy)
      assert.instanceOf(viaDirect, Busy)
      yield* release
    }), { timeout: 30_000 })

  it.scoped("a connection killed under a query fails with the typed error", () =>
    Effect.gen(function*() {
      const sql = Context.get(yield* onePool, SqlClient.SqlClient)
      const error = yield* Effect.flip(refine(sql`SELECT pg_terminate_backend(pg_backend_pid())`))
      assert.instanceOf(error, Busy)
    }), { timeout: 30_000 })
})

describe("DatabaseUnavailable.is", () => {
  it("reads the driver's error behind the SqlError", () => {
    assert.isTrue(DatabaseUnavailable.is(new SqlError({ cause: new Error("connect ECONNREFUSED 127.0.0.1:1") })))
    assert.isTrue(
      DatabaseUnavailable.is(new SqlError({ cause: new Error("x"), message: "Failed to acquire connection" }))
    )
    assert.isFalse(
      DatabaseUnavailable.is(
        new SqlError({ cause: new Error("relation \"x\" does not exist"), message: "Failed to execute statement" })
      )
    )
  })
})
