import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestDatabase from "../src/TestDatabase.js"
import { pgCode } from "./support.js"

const insertOrder = (status: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ id: string }>`INSERT INTO orders ${
        sql.insert({ email: "ada@example.com", status, totalCents: 1200 })
      } RETURNING id`.pipe(Effect.map((rows) => rows[0]!.id))
  )

describe("shop schema", () => {
  // the top-level `layer`: `it.layer` does not accept `excludeTestServices` in @effect/vitest 0.30
  layer(TestDatabase.layer, { excludeTestServices: true })((it) => {
    it.effect("order_events rejects a second transition of an order to the same status", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const orderId = yield* insertOrder("paid")
        const event = { orderId, fromStatus: "pending", toStatus: "paid" }
        yield* sql`INSERT INTO order_events ${sql.insert(event)}`
        const error = yield* Effect.flip(sql`INSERT INTO order_events ${sql.insert(event)}`)
        assert.strictEqual(pgCode(error), "23505")
        const [{ count }] = yield* sql<{ count: string }>`SELECT count(*) FROM order_events WHERE order_id = ${orderId}`
        assert.strictEqual(count, "1")
      }))

    it.effect("orders only take known statuses and non-negative totals", () =>
      Effect.gen(function*() {
        assert.strictEqual(pgCode(yield* Effect.flip(insertOrder("lost"))), "23514")
        const sql = yield* SqlClient.SqlClient
        const negative = sql`INSERT INTO orders ${sql.insert({ email: "a@b.c", status: "pending", totalCents: -1 })}`
        assert.strictEqual(pgCode(yield* Effect.flip(negative)), "23514")
      }))

    it.effect("order items: quantity 1..1000, deleted with their order", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const orderId = yield* insertOrder("pending")
        const item = (line: number, quantity: number) =>
          sql`INSERT INTO order_items ${sql.insert({ orderId, line, sku: "SKU-1", quantity, unitPriceCents: 600 })}`
        yield* item(1, 2)
        assert.strictEqual(pgCode(yield* Effect.flip(item(2, 0))), "23514")
        assert.strictEqual(pgCode(yield* Effect.flip(item(2, 1001))), "23514")
        yield* sql`DELETE FROM orders WHERE id = ${orderId}`
        const left = yield* sql`SELECT 1 FROM order_items WHERE order_id = ${orderId}`
        assert.strictEqual(left.length, 0)
      }))

    it.effect("e-mail addresses are unique regardless of case", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const user = (email: string) => sql`INSERT INTO users ${sql.insert({ name: "Ada", email, passwordHash: "x" })}`
        yield* user("Ada@Example.com")
        assert.strictEqual(pgCode(yield* Effect.flip(user("ada@example.COM"))), "23505")
      }))

    it.effect("an idempotency key identifies at most one order", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const order = sql`INSERT INTO orders ${
          sql.insert({ email: "a@b.c", status: "pending", totalCents: 0, idempotencyKey: "key-1" })
        }`
        yield* order
        assert.strictEqual(pgCode(yield* Effect.flip(order)), "23505")
      }))
  })
})
