import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createServer } from "node:http"
import { ShopApi } from "../src/Api.js"
import { MalformedJson } from "../src/Errors.js"
import * as OrderStateMachine from "../src/OrderStateMachine.js"
import { BodyErrorsLive, InMemoryShopLive, MaxBodyBytes, readiness } from "./fixtures/InMemoryShop.js"

// A real Node server on an ephemeral port, so the test goes through sockets, headers and JSON exactly
// as another team's client would.
const ServerLive = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
  Layer.provide(BodyErrorsLive),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
  Layer.provide(InMemoryShopLive),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

const baseUrl = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address as HttpServer.TcpAddress
  return `http://127.0.0.1:${address.port}`
})

// What another team writes: the contract plus a base URL.
const makeClient = Effect.flatMap(baseUrl, (url) => HttpApiClient.make(ShopApi, { baseUrl: url }))

const raw = (method: "GET" | "POST", path: string, body?: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(`${yield* baseUrl}${path}`)
    if (body !== undefined) request = HttpClientRequest.bodyText(request, body, "application/json")
    const response = yield* client.execute(request)
    return { status: response.status, contentType: response.headers["content-type"], text: yield* response.text }
  })

const newOrder = {
  email: "ada@example.com",
  items: [{ sku: "TEA-1", quantity: 2, unitPriceCents: 450 }, { sku: "CUP-9", quantity: 1, unitPriceCents: 1200 }]
}

describe("ShopApi", () => {
  // Real sockets: keep the live clock (TestClock and real I/O do not mix).
  layer(Layer.merge(ServerLive, FetchHttpClient.layer), { excludeTestServices: true })((it) => {
    it.effect("signs up once, then reports EmailTaken (409)", () =>
      Effect.gen(function*() {
        const client = yield* makeClient
        const payload = { name: "Ada", email: "ada@example.com", password: Redacted.make("correct horse") }
        const [user, response] = yield* client.users.create({ payload, withResponse: true })
        assert.strictEqual(response.status, 201)
        assert.deepStrictEqual([user.name, user.email], ["Ada", "ada@example.com"])
        assert.notProperty(user, "password")
        const error = yield* Effect.flip(client.users.create({ payload }))
        assert.strictEqual(error._tag, "EmailTaken")
        // A typed client validates the normalized form before sending (" Ada " never leaves the process);
        // raw HTTP callers get trimming and lowercasing on the server.
        const local = yield* Effect.flip(client.users.create({ payload: { ...payload, name: " Ada " } }))
        assert.strictEqual(local._tag, "ParseError")
        const rawSignup = { name: "  Grace ", email: " Grace@Example.COM", password: "hopper1906" }
        const created = yield* raw("POST", "/v1/users", JSON.stringify(rawSignup))
        assert.strictEqual(created.status, 201)
        const body = JSON.parse(created.text)
        assert.deepStrictEqual([body.name, body.email, body.password], ["Grace", "grace@example.com", undefined])
        const taken = yield* raw("POST", "/v1/users", JSON.stringify({ ...rawSignup, email: "GRACE@example.com" }))
        assert.strictEqual(taken.status, 409)
        assert.strictEqual(JSON.parse(taken.text)._tag, "EmailTaken")
      }))

    it.effect("walks an order through pay and cancel, refusing a second pay", () =>
      Effect.gen(function*() {
        const client = yield* makeClient
        const [created, response] = yield* client.orders.create({ payload: newOrder, headers: {}, withResponse: true })
        assert.strictEqual(response.status, 201)
        assert.strictEqual(created.status, "pending")
        assert.strictEqual(created.email, "ada@example.com")
        assert.strictEqual(created.totalCents, 2 * 450 + 1200)

        const paid = yield* client.orders.pay({ path: { id: created.id } })
        assert.strictEqual(paid.status, "paid")
        const again = yield* Effect.flip(client.orders.pay({ path: { id: created.id } }))
        assert.strictEqual(again._tag, "InvalidTransition")
        if (again._tag === "InvalidTransition") {
          assert.deepStrictEqual([again.status, again.attempted], ["paid", "paid"])
          assert.include(again.message, `is "paid"`)
        }
        yield* client.orders.cancel({ path: { id: created.id } })

        const read = yield* client.orders.get({ path: { id: created.id } })
        assert.strictEqual(read.status, "cancelled")
        assert.deepStrictEqual(read.events.map((e) => [e.from, e.to]), [["pending", "paid"], ["paid", "cancelled"]])
        assert.isTrue(OrderStateMachine.isValidPath(read.events))

        const page = yield* client.orders.list({ urlParams: { status: "cancelled", limit: 5 } })
        assert.deepStrictEqual(page.items.map((o) => o.id), [created.id])
        assert.isNull(page.nextCursor)
      }))

    it.effect("replays an idempotent create and rejects a reused key (422)", () =>
      Effect.gen(function*() {
        const client = yield* makeClient
        const headers = { "idempotency-key": "checkout-123" }
        const first = yield* client.orders.create({ payload: newOrder, headers })
        const second = yield* client.orders.create({ payload: newOrder, headers })
        assert.strictEqual(second.id, first.id)
        const changed = { ...newOrder, items: [{ sku: "TEA-1", quantity: 3, unitPriceCents: 450 }] }
        const conflict = yield* Effect.flip(client.orders.create({ payload: changed, headers }))
        assert.strictEqual(conflict._tag, "IdempotencyConflict")
      }))

    it.effect("reports a missing order as OrderNotFound (404)", () =>
      Effect.gen(function*() {
        const client = yield* makeClient
        const error = yield* Effect.flip(client.orders.get({ path: { id: 999 } }))
        assert.strictEqual(error._tag, "OrderNotFound")
        const body = yield* raw("GET", "/v1/orders/999")
        assert.strictEqual(body.status, 404)
        assert.deepStrictEqual(JSON.parse(body.text), {
          _tag: "OrderNotFound",
          id: 999,
          message: "order 999 does not exist"
        })
      }))

    it.effect("answers bad paths, bodies and queries with a JSON 400", () =>
      Effect.gen(function*() {
        for (const path of ["/v1/orders/abc", "/v1/orders/0", "/v1/orders?limit=500"]) {
          const response = yield* raw("GET", path)
          assert.strictEqual(response.status, 400, path)
          assert.strictEqual(JSON.parse(response.text)._tag, "HttpApiDecodeError", path)
        }
        const badItem = JSON.stringify({ ...newOrder, items: [{ sku: "TEA-1", quantity: 0, unitPriceCents: 1 }] })
        const response = yield* raw("POST", "/v1/orders", badItem)
        assert.strictEqual(response.status, 400)
        const body = JSON.parse(response.text)
        assert.strictEqual(body._tag, "HttpApiDecodeError")
        assert.deepStrictEqual(body.issues[0].path, ["items", 0, "quantity"])
      }))

    it.effect("answers unparseable JSON with MalformedJson (400) and big bodies with PayloadTooLarge (413)", () =>
      Effect.gen(function*() {
        const malformed = yield* raw("POST", "/v1/orders", "{\"email\": ")
        assert.strictEqual(malformed.status, 400)
        const error = yield* Schema.decodeUnknown(MalformedJson)(JSON.parse(malformed.text))
        assert.include(error.message, "not valid JSON")

        const big = JSON.stringify({ ...newOrder, padding: "x".repeat(MaxBodyBytes * 4) })
        const tooLarge = yield* raw("POST", "/v1/orders", big)
        assert.strictEqual(tooLarge.status, 413)
        assert.deepStrictEqual(JSON.parse(tooLarge.text), {
          _tag: "PayloadTooLarge",
          maxBytes: MaxBodyBytes,
          message: `request body exceeds ${MaxBodyBytes} bytes`
        })

        // the typed client decodes the API-wide error too
        const client = yield* makeClient
        const items = Array.from({ length: 100 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1, unitPriceCents: 1 }))
        const error413 = yield* Effect.flip(client.orders.create({ payload: { ...newOrder, items }, headers: {} }))
        assert.strictEqual(error413._tag, "PayloadTooLarge")
      }))

    it.effect("serves health, readiness (200 and 503) and text metrics", () =>
      Effect.gen(function*() {
        const client = yield* makeClient
        assert.deepStrictEqual(yield* client.ops.health(), { status: "ok" })
        assert.strictEqual((yield* client.ops.ready()).status, "ready")
        readiness.phase = "draining"
        const notReady = yield* Effect.flip(client.ops.ready()).pipe(Effect.ensuring(Effect.sync(() => {
          readiness.phase = "running"
        })))
        assert.strictEqual(notReady._tag, "NotReady")
        if (notReady._tag === "NotReady") assert.strictEqual(notReady.phase, "draining")
        assert.include(yield* client.ops.metrics(), "shop_up 1")
        const metrics = yield* raw("GET", "/metrics")
        assert.match(metrics.contentType ?? "", /^text\/plain/)
      }))

    it.effect("publishes OpenAPI and Swagger UI", () =>
      Effect.gen(function*() {
        const spec = JSON.parse((yield* raw("GET", "/openapi.json")).text)
        assert.strictEqual(spec.info.title, "Shop API")
        assert.includeMembers(Object.keys(spec.paths), ["/v1/users", "/v1/orders", "/v1/orders/{id}/pay", "/readyz"])
        assert.property(spec.paths["/v1/orders"].post.responses, "422")
        assert.deepStrictEqual(spec.paths["/v1/orders"].get.parameters.map((p: { name: string }) => p.name), [
          "status",
          "limit",
          "cursor"
        ])
        const docs = yield* raw("GET", "/docs")
        assert.strictEqual(docs.status, 200)
        assert.include(docs.text, "swagger")
      }))
  })
})
