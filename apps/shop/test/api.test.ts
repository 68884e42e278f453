/**
 * The shop's API on a real server and database, without the workers or the carrier: the typed client
 * of the contract (`ApiClient`) for what a client sends, the raw `call` for what a client must never
 * send (bad input) and for the wire itself (status codes of errors, headers). An error the client
 * decodes is one the server sent with the status the contract declares for it: the client picks the
 * error schema by status.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { TestDatabase } from "@shop/database/testing"
import { InvalidTransition, OrderNotFound } from "@shop/domain/Errors"
import { User } from "@shop/domain/User"
import { BackgroundTasks } from "@shop/lifecycle"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Fs from "node:fs"
import * as Net from "node:net"
import { ShopConfig } from "../src/ShopConfig.js"
import { anOrder, call, errorBody } from "./fixtures.js"
import { api, ApiClient, TestLogs } from "./layers.js"

const countOrders = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => Effect.map(sql<{ n: string }>`SELECT count(*) AS n FROM orders`, ([row]) => Number(row.n))
).pipe(Effect.orDie)

const password = Redacted.make("correct horse battery")

describe("shop API (real HTTP, real PostgreSQL)", () => {
  it.scopedLive("sign-up: 201 without the password, welcome e-mail written, duplicate (any case) 409, invalid 400", () =>
    Effect.gen(function*() {
      // raw: the typed client only sends e-mail addresses already in lower case
      const { baseUrl } = yield* ApiClient
      const signup = yield* call(baseUrl, "POST", "/v1/users", {
        name: "Ada Lovelace",
        email: "Ada@Example.com",
        password: Redacted.value(password)
      })
      assert.strictEqual(signup.status, 201)
      assert.deepStrictEqual(Object.keys(signup.body as object).sort(), ["createdAt", "email", "id", "name"])
      const user = Schema.decodeUnknownSync(User)(signup.body)
      assert.strictEqual(user.email, "ada@example.com")
      assert.isNumber(user.id)

      yield* Effect.flatMap(BackgroundTasks.BackgroundTasks, (tasks) => tasks.awaitIdle)
      const { mailDir } = yield* ShopConfig
      const mails = Fs.readdirSync(mailDir)
      assert.strictEqual(mails.length, 1)
      assert.match(Fs.readFileSync(`${mailDir}/${mails[0]}`, "utf8"), /To: ada@example.com[\s\S]*Subject: Welcome/)

      const duplicate = yield* call(baseUrl, "POST", "/v1/users", {
        name: "Impostor",
        email: "ADA@example.COM",
        password: "another password"
      })
      assert.strictEqual(duplicate.status, 409)
      assert.strictEqual(errorBody(duplicate.body)._tag, "EmailTaken")

      const invalid = yield* call(baseUrl, "POST", "/v1/users", {
        name: "",
        email: "not-an-email",
        password: "short"
      })
      assert.strictEqual(invalid.status, 400)
      assert.strictEqual(errorBody(invalid.body)._tag, "HttpApiDecodeError")

      const [stored] = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ passwordHash: string }>`SELECT password_hash FROM users`
      ).pipe(Effect.orDie)
      assert.match(stored.passwordHash, /^scrypt\$16384\$8\$1\$/)
      const { lines } = yield* TestLogs
      // the sign-up's own lines are captured, so the check below reads the log the password could reach
      assert.isTrue(lines.some((line) => line.startsWith("mail: wrote")), lines.join("\n"))
      assert.notInclude(lines.join("\n"), "correct horse", "the password never reaches the log")
    }).pipe(Effect.provide(api())))

  it.scopedLive("orders: create, idempotent retry, conflicting reuse, pay, illegal transitions, events", () =>
    Effect.gen(function*() {
      const client = yield* ApiClient
      const idempotent = { "idempotency-key": "checkout-7" }
      const [created, response] = yield* client.orders.create({
        payload: anOrder(),
        headers: idempotent,
        withResponse: true
      })
      assert.strictEqual(response.status, 201)
      assert.deepInclude(created, { status: "pending", totalCents: 2100, trackingNumber: null })

      const [retry, retried] = yield* client.orders.create({
        payload: anOrder(),
        headers: idempotent,
        withResponse: true
      })
      assert.strictEqual(retried.status, 201)
      assert.strictEqual(retry.id, created.id)
      assert.strictEqual(yield* countOrders, 1, "the retry created nothing")

      const reused = yield* Effect.flip(
        client.orders.create({ payload: anOrder("bob@example.com"), headers: idempotent })
      )
      assert.strictEqual(reused._tag, "IdempotencyConflict")

      const id = created.id
      const [paid, payResponse] = yield* client.orders.pay({ path: { id }, withResponse: true })
      assert.strictEqual(payResponse.status, 200)
      assert.strictEqual(paid.status, "paid")

      const again = yield* Effect.flip(client.orders.pay({ path: { id } }))
      assert.instanceOf(again, InvalidTransition)
      assert.deepInclude(again, { status: "paid", attempted: "paid" })
      assert.match(again.message, /is "paid"/)

      const cancelled = yield* client.orders.cancel({ path: { id } })
      assert.strictEqual(cancelled.status, "cancelled")
      const payCancelled = yield* Effect.flip(client.orders.pay({ path: { id } }))
      assert.instanceOf(payCancelled, InvalidTransition)
      assert.strictEqual(payCancelled.status, "cancelled")

      const read = yield* client.orders.get({ path: { id } })
      assert.deepStrictEqual(read.events.map((e) => `${e.from}->${e.to}`), ["pending->paid", "paid->cancelled"])
      const missing = yield* Effect.flip(client.orders.pay({ path: { id: 999999 } }))
      assert.instanceOf(missing, OrderNotFound)
      assert.strictEqual(missing.id, 999999)
    }).pipe(Effect.provide(api())))

  it.scopedLive("many concurrent pays of one order: exactly one wins, the others get 409, one event", () =>
    Effect.gen(function*() {
      const client = yield* ApiClient
      const { id } = yield* client.orders.create({ payload: anOrder(), headers: {} })
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () => Effect.either(client.orders.pay({ path: { id } }))),
        { concurrency: "unbounded" }
      )
      const outcomes = results.map((r) => r._tag === "Right" ? r.right.status : r.left._tag).sort()
      assert.deepStrictEqual(outcomes, [...Array(19).fill("InvalidTransition"), "paid"])
      const events = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM order_events WHERE order_id = ${id}`
      ).pipe(Effect.orDie)
      assert.strictEqual(Number(events[0].n), 1)
    }).pipe(Effect.provide(api())))

  it.scopedLive("keyset pagination: every order once, newest first; status filter", () =>
    Effect.gen(function*() {
      const client = yield* ApiClient
      const ids: Array<number> = []
      for (let i = 0; i < 5; i++) ids.push((yield* client.orders.create({ payload: anOrder(), headers: {} })).id)
      yield* client.orders.pay({ path: { id: ids[1] } })

      const seen: Array<number> = []
      let cursor: string | null = null
      do {
        const page: { readonly items: ReadonlyArray<{ readonly id: number }>; readonly nextCursor: string | null } =
          yield* client.orders.list({ urlParams: { limit: 2, ...(cursor === null ? {} : { cursor }) } })
        seen.push(...page.items.map((o) => o.id))
        cursor = page.nextCursor
      } while (cursor !== null)
      assert.deepStrictEqual(seen, [...ids].reverse())

      const paid = yield* client.orders.list({ urlParams: { status: "paid" } })
      assert.deepStrictEqual(paid.items.map((o) => o.id), [ids[1]])
      // a limit the contract refuses, so the typed client cannot send it
      const badLimit = yield* call(client.baseUrl, "GET", "/v1/orders?limit=1000")
      assert.strictEqual(badLimit.status, 400)
    }).pipe(Effect.provide(api())))

  it.scopedLive("bad input gets a 4xx with a JSON body saying what is wrong, and writes nothing", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* ApiClient
      const cases: Array<[string, string, unknown, number, string]> = [
        ["POST", "/v1/orders", "{\"email\": ", 400, "MalformedJson"],
        ["POST", "/v1/orders", { email: "a@b.co", items: [] }, 400, "HttpApiDecodeError"],
        [
          "POST",
          "/v1/orders",
          { email: "a@b.co", items: [{ sku: "X", quantity: 0, unitPriceCents: 1 }] },
          400,
          "HttpApiDecodeError"
        ],
        [
          "POST",
          "/v1/orders",
          { email: "a@b.co", items: [{ sku: "X", quantity: 1, unitPriceCents: -5 }] },
          400,
          "HttpApiDecodeError"
        ],
        [
          "POST",
          "/v1/orders",
          { email: "a@b.co", items: [{ sku: "X\u0000Y", quantity: 1, unitPriceCents: 1 }] },
          400,
          "HttpApiDecodeError"
        ],
        ["POST", "/v1/orders", "x".repeat(1024 * 1024 + 1), 413, "PayloadTooLarge"],
        ["GET", "/v1/orders/abc", undefined, 400, "HttpApiDecodeError"],
        ["GET", "/v1/orders/99999999999999999999", undefined, 400, "HttpApiDecodeError"],
        ["GET", "/no/such/route", undefined, 404, "NotFound"],
        ["DELETE", "/v1/orders/1", undefined, 404, "NotFound"]
      ]
      for (const [method, path, body, status, tag] of cases) {
        const response = yield* call(baseUrl, method, path, body)
        assert.strictEqual(response.status, status, `${method} ${path}`)
        const error = errorBody(response.body)
        assert.strictEqual(error._tag, tag, `${method} ${path}: ${JSON.stringify(response.body)}`)
        assert.notMatch(JSON.stringify(response.body), /at .*\.(ts|js):\d+/, "no stack trace on the wire")
      }
      assert.strictEqual(yield* countOrders, 0)
    }).pipe(Effect.provide(api())))

  // on both servers: the header comes from the request policy, which each applies its own way
  it.scopedLive.each(["fast", "standard"])(
    "a saturated database pool answers 503 with Retry-After, not 500 (%s)",
    (server) =>
      Effect.gen(function*() {
        const { baseUrl } = yield* ApiClient
        // the pool's only connection, held until the test lets go
        const release = yield* TestDatabase.holdConnection(yield* SqlClient.SqlClient)
        const busy = yield* call(baseUrl, "GET", "/v1/orders/1")
        assert.strictEqual(busy.status, 503)
        assert.strictEqual(busy.headers.get("retry-after"), "1")
        assert.deepStrictEqual(busy.body, {
          _tag: "ServiceUnavailable",
          message: "the database is busy; retry shortly"
        })
        yield* release
        assert.strictEqual((yield* call(baseUrl, "GET", "/v1/orders/1")).status, 404)
      }).pipe(
        Effect.scoped,
        Effect.provide(api({ HTTP_SERVER: server, DATABASE_POOL_SIZE: "1", DATABASE_CONNECT_TIMEOUT: "300 millis" }))
      )
  )

  it.scopedLive("a first GET /docs cut short by its client does not break /docs for the next ones", () =>
    Effect.gen(function*() {
      const client = yield* ApiClient
      const { port } = new URL(client.baseUrl)
      // the page is built on the first request: hang up while it is being built
      yield* Effect.async<void>((resume) => {
        const socket = Net.connect(Number(port), "127.0.0.1", () => {
          socket.write("GET /docs HTTP/1.1\r\nHost: x\r\n\r\n", () => {
            socket.destroy()
            resume(Effect.void)
          })
        })
        socket.on("error", () => {})
      })
      const docs = yield* call(client.baseUrl, "GET", "/docs")
      assert.strictEqual(docs.status, 200)
      assert.include(String(docs.body), "SwaggerUIBundle({")
    }).pipe(Effect.provide(api())))

  it.scopedLive("ops: /healthz, /readyz with the database check, /metrics, /openapi.json, /docs", () =>
    Effect.gen(function*() {
      const client = yield* ApiClient
      yield* client.orders.create({ payload: anOrder(), headers: {} })
      assert.deepStrictEqual(yield* client.ops.health(), { status: "ok" })
      assert.deepStrictEqual(yield* client.ops.ready(), {
        status: "ready",
        phase: "running",
        checks: [{ name: "database", ok: true }]
      })
      const metrics = yield* call(client.baseUrl, "GET", "/metrics")
      assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/)
      assert.match(String(metrics.body), /^shop_orders_created_total [1-9]\d*$/m) // the rest: metrics.test.ts
      const openapi = yield* call(client.baseUrl, "GET", "/openapi.json")
      assert.deepNestedInclude(openapi.body, { "info.title": "Shop API" })
      // Swagger UI, loaded on the first request (Docs.ts): the page for this API, the same every time
      const docs = yield* call(client.baseUrl, "GET", "/docs")
      assert.strictEqual(docs.status, 200)
      assert.match(docs.headers.get("content-type") ?? "", /^text\/html/)
      assert.include(String(docs.body), "<title>Shop API Documentation</title>")
      assert.include(String(docs.body), "SwaggerUIBundle({")
      assert.include(String(docs.body), `"/v1/orders/{id}"`)
      assert.strictEqual((yield* call(client.baseUrl, "GET", "/docs")).body, docs.body)
    }).pipe(Effect.provide(api())))
})
