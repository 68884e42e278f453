import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Array from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Database from "../src/Database.js"
import * as Migrations from "../src/Migrations.js"
import * as TestDatabase from "../src/TestDatabase.js"

const emptyDatabase = Layer.unwrapEffect(
  Effect.map(TestDatabase.adminUrl, (url) => TestDatabase.layerFrom(url, { migrate: false }))
)

const publicTables = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ tableName: string }>`SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' ORDER BY table_name`
).pipe(Effect.map(Array.map((_) => _.tableName)))

const shopTables = ["carrier_feed", "effect_sql_migrations", "order_events", "order_items", "orders", "outbox", "users"]

describe("Migrations", () => {
  it.live("apply the shop schema once; running them again does nothing", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* publicTables, [])
      const first = yield* Migrations.run
      assert.deepStrictEqual(first, [[1, "users"], [2, "outbox"], [3, "orders"], [4, "carrier"], [
        5,
        "fulfillment_index"
      ], [6, "event_clock"]])
      assert.deepStrictEqual(yield* publicTables, shopTables)
      assert.deepStrictEqual(yield* Migrations.run, [])
    }).pipe(Effect.provide(emptyDatabase)))

  it.scopedLive("two replicas migrating one fresh database at the same time both succeed", () =>
    Effect.gen(function*() {
      const adminUrl = yield* TestDatabase.adminUrl
      // a race: repeat it on several fresh databases
      for (let round = 0; round < 5; round++) {
        const url = yield* TestDatabase.create(adminUrl)
        // each Effect.provide builds its own pool: two independent "replicas"
        const replica = Database.layerFromUrl({
          url,
          poolSize: 2,
          connectTimeout: Duration.seconds(5),
          idleTimeout: Duration.seconds(10)
        })
        const applied = yield* Effect.all(
          [Effect.provide(Migrations.run, replica), Effect.provide(Migrations.run, replica)],
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(applied.map((_) => _.length).sort(), [0, 6])
        const recorded = yield* Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql<{ migrationId: number }>`SELECT migration_id FROM effect_sql_migrations ORDER BY 1`
        ).pipe(Effect.provide(replica))
        assert.deepStrictEqual(recorded.map((_) => _.migrationId), [1, 2, 3, 4, 5, 6])
        assert.deepStrictEqual(yield* Effect.provide(publicTables, replica), shopTables)
      }
    }))
})
