/**
 * The fast server answers exactly as the standard one. Two shops run side by side — the standard
 * `HttpApiBuilder.serve` (`HTTP_SERVER=standard`) and the default `@shop/fast-httpapi`, each on a fresh
 * database — and every generated request (valid, invalid, hostile: the cases of hostile.test.ts) goes
 * to both, the same bytes, one after the other, so both databases live through the same history.
 * Status, the headers that matter and the body must be the same; only timestamps may differ.
 *
 * `HOSTILE_RUNS_SCALE` and `HOSTILE_SEED` tune and replay the properties, as in hostile.test.ts.
 */
import { assert, layer } from "@effect/vitest"
import { GracefulHttp, Lifecycle } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import * as Layer from "effect/Layer"
import {
  brokenJsonBytes,
  deeplyNested,
  jsonContentType,
  jsonText,
  method,
  orderText,
  otherContentType,
  pathId,
  percentEncode,
  queryValue,
  signUpText,
  validOrderText,
  validSignUpText
} from "./hostile/arbitraries.js"
import { nodeRefusedRequests, notAnIdempotencyKey, routeTarget } from "./hostile/cases.js"
import { forAll } from "./hostile/checks.js"
import { raw, type RawResponse, request } from "./hostile/raw.js"
import { api } from "./layers.js"

interface Running {
  readonly port: number
  readonly lifecycle: Lifecycle.LifecycleService
}

class Pair extends Context.Tag("test/differential/Pair")<Pair, {
  readonly standard: Running
  readonly fast: Running
}>() {}

/** The API on one server, on a database of its own (the two shops create the same rows). */
const running = (settings: Record<string, string>) =>
  Effect.map(Layer.build(api(settings)), (context): Running => ({
    port: Context.get(context, GracefulHttp.GracefulHttp).port,
    lifecycle: Context.get(context, Lifecycle.Lifecycle)
  }))

const pairLayer = Layer.scoped(
  Pair,
  Effect.all({ standard: running({ HTTP_SERVER: "standard" }), fast: running({ HTTP_SERVER: "fast" }) })
)

/** The headers a client acts on. */
const headersThatMatter = ["content-type", "allow", "retry-after", "connection"] as const

/** The body with its timestamps blanked: the two shops create the same rows, not at the same instant. */
const comparable = (response: RawResponse, target: string): unknown => {
  if (target.startsWith("/metrics")) return "(metrics: counts and gauges of each shop)"
  try {
    return JSON.parse(
      response.body,
      (key, value) => key === "createdAt" || key === "updatedAt" || key === "at" ? "<time>" : value
    )
  } catch {
    return response.body
  }
}

/** Sends the same bytes to the standard shop, then to the fast one, and asserts the same answer. */
const same = (label: string, target: string, bytes: string | Uint8Array, options: Parameters<typeof raw>[2] = {}) =>
  Effect.gen(function*() {
    const { fast, standard } = yield* Pair
    const expected = yield* raw(standard.port, bytes, { timeoutMs: 10_000, ...options })
    const actual = yield* raw(fast.port, bytes, { timeoutMs: 10_000, ...options })
    const said = `${label}\n  standard: ${expected.status} ${JSON.stringify(expected.headers)} ${
      expected.body.slice(0, 300)
    }\n  fast:     ${actual.status} ${JSON.stringify(actual.headers)} ${actual.body.slice(0, 300)}`
    assert.strictEqual(actual.status, expected.status, `status: ${said}`)
    for (const name of headersThatMatter) {
      assert.strictEqual(actual.headers[name], expected.headers[name], `${name}: ${said}`)
    }
    assert.deepStrictEqual(comparable(actual, target), comparable(expected, target), `body: ${said}`)
    if (expected.status === 0) assert.strictEqual(actual.closed, expected.closed, `closed: ${said}`)
  })

const sameRequest = (
  verb: string,
  target: string,
  options: { readonly body?: string | Uint8Array | undefined; readonly headers?: Record<string, string | undefined> } =
    {}
) =>
  same(
    `${verb} ${target.slice(0, 200)} ${JSON.stringify(options.headers ?? {})} ${
      options.body === undefined ? "" : JSON.stringify(Buffer.from(options.body).toString("utf8").slice(0, 200))
    }`,
    target,
    request(verb, target, options)
  )

/** Keep-alive or not: the `Connection` header of the answer must follow the request's either way. */
const connection = fc.constantFrom<string | undefined>("close", "keep-alive", undefined)

const payloadPath = fc.constantFrom("/v1/users", "/v1/orders")

layer(pairLayer, { excludeTestServices: true, timeout: "60 seconds" })(
  "the fast server answers as the standard one",
  (it) => {
    it.effect("any JSON value, broken JSON and bodies of other types, as a sign-up or an order", () =>
      forAll(
        fc.tuple(
          payloadPath,
          fc.oneof(jsonText.map((t) => Buffer.from(t)), brokenJsonBytes),
          fc.oneof(jsonContentType, otherContentType, fc.constant(undefined)),
          connection
        ),
        ([path, body, contentType, keepAlive]) =>
          sameRequest("POST", path, { body, headers: { "content-type": contentType, connection: keepAlive } }),
        200,
        [["/v1/orders", Buffer.alloc(0), undefined, "close"], [
          "/v1/users",
          Buffer.from("null"),
          "application/json",
          "close"
        ]]
      ), 60_000)

    it.effect(
      "sign-ups and orders valid or not (types, unicode, NUL, huge strings), with or without keys",
      () =>
        forAll(
          fc.oneof(
            signUpText.map((body) => ["/v1/users", body, undefined] as const),
            fc.tuple(
              fc.constant("/v1/orders"),
              orderText,
              fc.option(fc.constantFrom("checkout-1", "k", "x".repeat(200)), { nil: undefined })
            )
          ),
          ([path, body, key]) => sameRequest("POST", path, { body, headers: { "idempotency-key": key } }),
          200,
          [["/v1/users", validSignUpText, undefined], ["/v1/orders", validOrderText, "k"]]
        ),
      60_000
    )

    it.effect(
      "JSON nested 65 to 100 000 levels deep",
      () => forAll(fc.tuple(payloadPath, deeplyNested), ([path, body]) => sameRequest("POST", path, { body }), 25),
      60_000
    )

    it.effect("path ids that are not ids, on every /v1/orders/{id} route, with or without a body", () =>
      forAll(
        fc.tuple(
          pathId,
          fc.constantFrom(["GET", ""], ["POST", "/pay"], ["POST", "/cancel"], ["POST", "/retry-booking"]),
          fc.option(jsonText, { nil: undefined })
        ),
        ([id, [verb, suffix], body]) => sameRequest(verb, `/v1/orders/${id}${suffix}`, { body }),
        200
      ), 60_000)

    it.effect("GET /v1/orders with hostile status, limit and cursor", () =>
      forAll(
        fc.record({ status: queryValue, limit: queryValue, cursor: queryValue, junk: queryValue }, {
          requiredKeys: []
        }),
        (params) =>
          sameRequest(
            "GET",
            `/v1/orders?${Object.entries(params).map(([k, v]) => `${k}=${percentEncode(v)}`).join("&")}`
          ),
        200
      ), 60_000)

    it.effect("Idempotency-Key values that are not keys, and legal but weird ones", () =>
      forAll(
        fc.oneof(
          notAnIdempotencyKey,
          fc.string({ minLength: 1, maxLength: 200 }).map((k) => k.trim()).filter((k) => k !== "")
        ),
        (key) => sameRequest("POST", "/v1/orders", { body: validOrderText, headers: { "idempotency-key": key } }),
        100
      ), 60_000)

    it.effect(
      "any method on any target, known or not, with or without a body",
      () =>
        forAll<[string, string, string | undefined, string | undefined], Pair>(
          fc.tuple(method, routeTarget, fc.option(jsonText, { nil: undefined }), connection),
          ([verb, target, body, keepAlive]) => sameRequest(verb, target, { body, headers: { connection: keepAlive } }),
          300,
          [
            ["GET", "/healthz", undefined, "close"],
            ["GET", "/readyz", undefined, "close"],
            [
              "GET",
              "/openapi.json",
              undefined,
              "close"
            ],
            ["GET", "/docs", undefined, "close"],
            ["HEAD", "/v1/orders/1", undefined, "close"]
          ]
        ),
      60_000
    )

    it.effect("a day in the life: create, pay, cancel, read, list, retry, on orders that exist", () =>
      forAll(
        fc.array(
          fc.tuple(
            fc.constantFrom("create", "pay", "cancel", "get", "list", "retry-booking"),
            fc.integer({ min: 1, max: 12 })
          ),
          { minLength: 1, maxLength: 30 }
        ),
        (actions) =>
          Effect.forEach(actions, ([action, id]) => {
            switch (action) {
              case "create":
                return sameRequest("POST", "/v1/orders", { body: validOrderText })
              case "get":
                return sameRequest("GET", `/v1/orders/${id}`)
              case "list":
                return sameRequest("GET", `/v1/orders?limit=${id}`)
              default:
                return sameRequest("POST", `/v1/orders/${id}/${action}`)
            }
          }, { discard: true }),
        20
      ), 60_000)

    it.effect("bodies declared over 1 MiB, and requests Node itself refuses", () =>
      Effect.gen(function*() {
        for (const path of ["/v1/users", "/v1/orders", "/v1/orders/1/pay", "/healthz"]) {
          for (const declared of [1024 * 1024 + 1, 2 ** 40]) {
            const head = request("POST", path, { body: "", headers: { "content-length": String(declared) } })
            yield* same(`POST ${path} declaring ${declared} bytes`, path, Buffer.concat([head, Buffer.from("{}")]), {
              timeoutMs: 5_000
            })
          }
        }
        const big = `{"email":"ada@example.com","items":[],"pad":"${"x".repeat(1024 * 1024)}"}`
        yield* sameRequest("POST", "/v1/orders", { body: big })
        for (const [name, bytes] of nodeRefusedRequests) yield* same(name, "/", bytes, { timeoutMs: 5_000 })
      }), 60_000)

    it.effect("while draining: Connection: close on every answer, /readyz 503", () =>
      Effect.gen(function*() {
        const { fast, standard } = yield* Pair
        yield* standard.lifecycle.beginDrain("test: draining")
        yield* fast.lifecycle.beginDrain("test: draining")
        for (const target of ["/readyz", "/healthz", "/v1/orders/1", "/v1/orders/abc", "/nowhere"]) {
          yield* sameRequest("GET", target, { headers: { connection: "keep-alive" } })
        }
        yield* sameRequest("POST", "/v1/orders", { body: validOrderText, headers: { connection: "keep-alive" } })
      }))
  }
)
