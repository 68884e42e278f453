import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { TestDatabase } from "@shop/database/testing"
import { ShopApi } from "@shop/domain/Api"
import { BackgroundTasks } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import { anOrder, call, startShop } from "./support.js"

const countOrders = (context: Context.Context<SqlClient.SqlClient>) =>
  Effect.map(
    Context.get(context, SqlClient.SqlClient)<{ n: string }>`SELECT count(*) AS n FROM orders`,
    ([row]) => Number(row.n)
  ).pipe(Effect.orDie)

describe("shop API (in-process, real HTTP, real PostgreSQL)", () => {
  it.scopedLive("sign-up: 201 without the password, welcome e-mail written, duplicate (any case) 409, invalid 400", () =>
    Effect.gen(function*() {
      const { baseUrl, context, logs, mailDir } = yield* startShop()
      const signup = yield* call(baseUrl, "POST", "/v1/users", {
        name: "Ada Lovelace",
        email: "Ada@Example.com",
        password: "correct horse battery"
      })
      assert.strictEqual(signup.status, 201)
      assert.deepStrictEqual(Object.keys(signup.body).sort(), ["createdAt", "email", "id", "name"])
      assert.strictEqual(signup.body.email, "ada@example.com")
      assert.isNumber(signup.body.id)

      yield* Context.get(context, BackgroundTasks.BackgroundTasks).awaitIdle
      const mails = Fs.readdirSync(mailDir)
      assert.strictEqual(mails.length, 1)
      assert.match(Fs.readFileSync(`${mailDir}/${mails[0]}`, "utf8"), /To: ada@example.com[\s\S]*Subject: Welcome/)

      const duplicate = yield* call(baseUrl, "POST", "/v1/users", {
        name: "Impostor",
        email: "ADA@example.COM",
        password: "another password"
      })
      assert.strictEqual(duplicate.status, 409)
      assert.strictEqual(duplicate.body._tag, "EmailTaken")

      const invalid = yield* call(baseUrl, "POST", "/v1/users", { name: "", email: "not-an-email", password: "short" })
      assert.strictEqual(invalid.status, 400)
      assert.strictEqual(invalid.body._tag, "HttpApiDecodeError")

      const [stored] = yield* Context.get(context, SqlClient.SqlClient)<{ passwordHash: string }>`
        SELECT password_hash FROM users`.pipe(Effect.orDie)
      assert.match(stored.passwordHash, /^scrypt\$16384\$8\$1\$/)
      assert.notInclude(logs.join("\n"), "correct horse", "the password never reaches the log")
    }))

  it.scopedLive("orders: create, idempotent retry, conflicting reuse, pay, illegal transitions, events", () =>
    Effect.gen(function*() {
      const { baseUrl, context } = yield* startShop()
      const created = yield* call(baseUrl, "POST", "/v1/orders", anOrder(), { "idempotency-key": "checkout-7" })
      assert.strictEqual(created.status, 201)
      assert.deepInclude(created.body, { status: "pending", totalCents: 2100, trackingNumber: null })

      const retry = yield* call(baseUrl, "POST", "/v1/orders", anOrder(), { "idempotency-key": "checkout-7" })
      assert.strictEqual(retry.status, 201)
      assert.strictEqual(retry.body.id, created.body.id)
      assert.strictEqual(yield* countOrders(context), 1, "the retry created nothing")

      const reused = yield* call(baseUrl, "POST", "/v1/orders", anOrder("bob@example.com"), {
        "idempotency-key": "checkout-7"
      })
      assert.strictEqual(reused.status, 422)
      assert.strictEqual(reused.body._tag, "IdempotencyConflict")

      const id = created.body.id
      const paid = yield* call(baseUrl, "POST", `/v1/orders/${id}/pay`)
      assert.strictEqual(paid.status, 200)
      assert.strictEqual(paid.body.status, "paid")

      const again = yield* call(baseUrl, "POST", `/v1/orders/${id}/pay`)
      assert.strictEqual(again.status, 409)
      assert.deepInclude(again.body, { _tag: "InvalidTransition", status: "paid", attempted: "paid" })
      assert.match(again.body.message, /is "paid"/)

      const cancelled = yield* call(baseUrl, "POST", `/v1/orders/${id}/cancel`)
      assert.strictEqual(cancelled.body.status, "cancelled")
      const payCancelled = yield* call(baseUrl, "POST", `/v1/orders/${id}/pay`)
      assert.strictEqual(payCancelled.status, 409)
      assert.strictEqual(payCancelled.body.status, "cancelled")

      const read = yield* call(baseUrl, "GET", `/v1/orders/${id}`)
      assert.deepStrictEqual(
        read.body.events.map((e: { from: string; to: string }) => `${e.from}->${e.to}`),
        ["pending->paid", "paid->cancelled"]
      )
      const missing = yield* call(baseUrl, "POST", "/v1/orders/999999/pay")
      assert.strictEqual(missing.status, 404)
      assert.deepInclude(missing.body, { _tag: "OrderNotFound", id: 999999 })
    }))

  it.scopedLive("many concurrent pays of one order: exactly one wins, the others get 409, one event", () =>
    Effect.gen(function*() {
      const { baseUrl, context } = yield* startShop()
      const { body } = yield* call(baseUrl, "POST", "/v1/orders", anOrder())
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () => call(baseUrl, "POST", `/v1/orders/${body.id}/pay`)),
        { concurrency: "unbounded" }
      )
      const statuses = results.map((r) => r.status).sort()
      assert.deepStrictEqual(statuses, [200, ...Array(19).fill(409)])
      const events = yield* Context.get(context, SqlClient.SqlClient)<{ n: string }>`
        SELECT count(*) AS n FROM order_events WHERE order_id = ${body.id}`.pipe(Effect.orDie)
      assert.strictEqual(Number(events[0].n), 1)
    }))

  it.scopedLive("keyset pagination: every order once, newest first; status filter", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* startShop()
      const ids: Array<number> = []
      for (let i = 0; i < 5; i++) ids.push((yield* call(baseUrl, "POST", "/v1/orders", anOrder())).body.id)
      yield* call(baseUrl, "POST", `/v1/orders/${ids[1]}/pay`)

      const seen: Array<number> = []
      let cursor: string | null = null
      do {
        const page: { body: { items: Array<{ id: number }>; nextCursor: string | null } } = yield* call(
          baseUrl,
          "GET",
          `/v1/orders?limit=2${cursor ? `&cursor=${cursor}` : ""}`
        )
        seen.push(...page.body.items.map((o) => o.id))
        cursor = page.body.nextCursor
      } while (cursor !== null)
      assert.deepStrictEqual(seen, [...ids].reverse())

      const paid = yield* call(baseUrl, "GET", "/v1/orders?status=paid")
      assert.deepStrictEqual(paid.body.items.map((o: { id: number }) => o.id), [ids[1]])
      const badLimit = yield* call(baseUrl, "GET", "/v1/orders?limit=1000")
      assert.strictEqual(badLimit.status, 400)
    }))

  it.scopedLive("bad input gets a 4xx with a JSON body saying what is wrong, and writes nothing", () =>
    Effect.gen(function*() {
      const { baseUrl, context } = yield* startShop()
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
        assert.strictEqual(response.body._tag, tag, `${method} ${path}: ${JSON.stringify(response.body)}`)
        assert.isString(response.body.message, `${method} ${path} says what is wrong`)
        assert.notMatch(JSON.stringify(response.body), /at .*\.(ts|js):\d+/, "no stack trace on the wire")
      }
      assert.strictEqual(yield* countOrders(context), 0)
    }))

  // on both servers: the header comes from the request policy, which each applies its own way
  it.scopedLive.each(["fast", "standard"])(
    "a saturated database pool answers 503 with Retry-After, not 500 (%s)",
    (server) =>
      Effect.gen(function*() {
        const { baseUrl, context } = yield* startShop({
          HTTP_SERVER: server,
          DATABASE_POOL_SIZE: "1",
          DATABASE_CONNECT_TIMEOUT: "300 millis"
        })
        const sql = Context.get(context, SqlClient.SqlClient)
        // the pool's only connection, held until the test lets go
        const release = yield* TestDatabase.holdConnection(sql)
        const busy = yield* call(baseUrl, "GET", "/v1/orders/1")
        assert.strictEqual(busy.status, 503)
        assert.strictEqual(busy.headers.get("retry-after"), "1")
        assert.deepStrictEqual(busy.body, {
          _tag: "ServiceUnavailable",
          message: "the database is busy; retry shortly"
        })
        yield* release
        assert.strictEqual((yield* call(baseUrl, "GET", "/v1/orders/1")).status, 404)
      })
  )

  it.scopedLive("ops: /healthz, /readyz with the database check, /metrics, /openapi.json, /docs", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* startShop()
      yield* call(baseUrl, "POST", "/v1/orders", anOrder())
      assert.deepStrictEqual((yield* call(baseUrl, "GET", "/healthz")).body, { status: "ok" })
      const ready = yield* call(baseUrl, "GET", "/readyz")
      assert.deepStrictEqual(ready.body, {
        status: "ready",
        phase: "running",
        checks: [{ name: "database", ok: true }]
      })
      const metrics = yield* call(baseUrl, "GET", "/metrics")
      assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/)
      assert.match(metrics.body, /^shop_orders_created_total [1-9]\d*$/m) // the rest: metrics.test.ts
      const openapi = yield* call(baseUrl, "GET", "/openapi.json")
      assert.strictEqual(openapi.body.info.title, "Shop API")
      assert.strictEqual((yield* call(baseUrl, "GET", "/docs")).status, 200)
    }))

  it.scopedLive("other teams can use a typed client built from the contract", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* startShop()
      const client = yield* HttpApiClient.make(ShopApi, { baseUrl })
      const user = yield* client.users.create({
        payload: { name: "Grace", email: "grace@example.com", password: Redacted.make("hunter2hunter2") }
      })
      assert.strictEqual(user.email, "grace@example.com")
      const order = yield* client.orders.create({ payload: anOrder("grace@example.com"), headers: {} })
      const paid = yield* client.orders.pay({ path: { id: order.id } })
      assert.strictEqual(paid.status, "paid")
      const error = yield* Effect.flip(client.orders.pay({ path: { id: order.id } }))
      assert.strictEqual(error._tag, "InvalidTransition")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
