/**
 * Hostile input, property-based: malformed and adversarial requests at every endpoint must get a
 * 4xx with a JSON body (`_tag`, `message`, no stack trace) — never a 5xx, a crash or a hang — and
 * must write nothing. Slow clients are cut off in bounded time; concurrent transitions of one order
 * have exactly one winner per transition.
 *
 * Each describe block shares one in-process shop (the production layer, a fresh database, real
 * HTTP over raw sockets). `HOSTILE_RUNS_SCALE` and `HOSTILE_SEED` tune and replay the properties.
 */
import { assert, layer } from "@effect/vitest"
import { EmailFromInput } from "@shop/domain/Email"
import { CreateOrder, ListOrdersParams, OrderIdFromString } from "@shop/domain/Order"
import { CreateUser } from "@shop/domain/User"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import {
  brokenJsonBytes,
  deeplyNested,
  jsonContentType,
  jsonText,
  method,
  nastyChar,
  orderText,
  otherContentType,
  pathId,
  percentEncode,
  queryValue,
  signUpText,
  validItemText,
  validOrderText,
  validSignUpText
} from "./hostile/arbitraries.js"
import { nodeRefusedRequests, notAnIdempotencyKey, routeTarget } from "./hostile/cases.js"
import {
  assertHealthy,
  assertNothingWritten,
  assertRejected,
  forAll,
  rowCounts,
  Shop,
  shopLayer
} from "./hostile/checks.js"
import { raw, type RawResponse, request } from "./hostile/raw.js"

const decoders = {
  "/v1/users": Schema.decodeUnknownEither(CreateUser),
  "/v1/orders": Schema.decodeUnknownEither(CreateOrder)
} as const
type PayloadPath = keyof typeof decoders
const payloadPath = fc.constantFrom<PayloadPath>("/v1/users", "/v1/orders")

/** What the server must make of these bytes as a JSON body of `path`. */
const classify = (path: PayloadPath, bytes: Uint8Array): "MalformedJson" | "HttpApiDecodeError" | "valid" => {
  const text = Buffer.from(bytes).toString("utf8") // as the server decodes it: broken UTF-8 becomes U+FFFD
  let value: unknown
  try {
    value = text === "" ? null : JSON.parse(text)
  } catch {
    return "MalformedJson"
  }
  const invalid = path === "/v1/users" ? Either.isLeft(decoders[path](value)) : Either.isLeft(decoders[path](value))
  return invalid ? "HttpApiDecodeError" : "valid"
}

/** The valid order with some of its line's fields replaced by raw JSON text. */
const orderWith = (line: { readonly sku?: string; readonly quantity?: string; readonly unitPriceCents?: string }) =>
  `{"email":"ada@example.com","items":[{"sku":${line.sku ?? "\"TEA-GREEN-250\""},"quantity":${
    line.quantity ?? "2"
  },"unitPriceCents":${line.unitPriceCents ?? "450"}}]}`

const send = (
  method: string,
  target: string,
  options: {
    readonly body?: string | Uint8Array | undefined
    readonly headers?: Record<string, string | undefined>
  } = {}
): Effect.Effect<RawResponse, never, Shop> =>
  Effect.flatMap(Shop, ({ port }) => raw(port, request(method, target, options), { timeoutMs: 10_000 }))

const label = (method: string, target: string, body?: string | Uint8Array) =>
  `${method} ${target.slice(0, 200)}${
    body === undefined ? "" : ` ${JSON.stringify(Buffer.from(body).toString("utf8").slice(0, 300))}`
  }`

/** Runs the property, then checks that nothing was written and the shop is still healthy. */
const hostile = <A>(
  arbitrary: fc.Arbitrary<A>,
  predicate: (value: A) => Effect.Effect<void, never, Shop>,
  numRuns: number,
  examples: ReadonlyArray<A> = []
) =>
  Effect.gen(function*() {
    yield* forAll(arbitrary, predicate, numRuns, examples)
    yield* assertNothingWritten
    yield* assertHealthy
  })

layer(shopLayer(), { excludeTestServices: true, timeout: "60 seconds" })(
  "hostile input: a 4xx with a JSON body, never a 5xx or a hang, nothing written",
  (it) => {
    it.effect("any JSON value as a sign-up or an order: 400 HttpApiDecodeError", () =>
      hostile(
        fc.tuple(payloadPath, jsonText),
        ([path, text]) =>
          Effect.gen(function*() {
            fc.pre(classify(path, Buffer.from(text)) !== "valid")
            const response = yield* send("POST", path, { body: text })
            assertRejected(response, label("POST", path, text), { status: 400, tag: "HttpApiDecodeError" })
          }),
        150
      ), 30_000)

    it.effect(
      "sign-ups with wrong types, unicode, NUL, controls, lone surrogates, huge strings, duplicate keys: 400",
      () =>
        hostile(
          signUpText,
          (text) =>
            Effect.gen(function*() {
              const expected = classify("/v1/users", Buffer.from(text))
              fc.pre(expected !== "valid")
              const response = yield* send("POST", "/v1/users", { body: text })
              assertRejected(response, label("POST", "/v1/users", text), { status: 400, tag: expected })
            }),
          200
        ),
      30_000
    )

    it.effect(
      "orders with 1e309, MAX_SAFE_INTEGER+1, negative, fractional, stringly numbers, bad SKUs, 0/101/10 000 items: 400",
      () =>
        hostile<[string, string | undefined]>(
          fc.tuple(orderText, fc.option(fc.constantFrom("checkout-1", "k", "x".repeat(200)), { nil: undefined })),
          ([text, key]) =>
            Effect.gen(function*() {
              const expected = classify("/v1/orders", Buffer.from(text))
              fc.pre(expected !== "valid")
              const response = yield* send("POST", "/v1/orders", { body: text, headers: { "idempotency-key": key } })
              assertRejected(response, label("POST", "/v1/orders", text), { status: 400, tag: expected })
            }),
          150,
          // always tried, whatever the seed
          [
            [orderWith({ quantity: "1e309" }), undefined],
            [orderWith({ quantity: "9007199254740992" }), "checkout-1"],
            [orderWith({ unitPriceCents: "-1" }), undefined],
            [orderWith({ quantity: "1.5" }), undefined],
            [orderWith({ quantity: "\"2\"" }), undefined],
            [orderWith({ sku: "\"TEA\\u0000GREEN\"" }), undefined],
            [orderWith({ sku: JSON.stringify("\u0422EA") }), undefined],
            [`{"email":"ada@example.com","items":[${Array(10_000).fill(validItemText).join(",")}]}`, "k"]
          ]
        ),
      30_000
    )

    it.effect(
      "broken JSON (truncated, trailing garbage, JS-isms, random bytes, bad UTF-8): 400 MalformedJson",
      () =>
        hostile(
          fc.tuple(payloadPath, brokenJsonBytes, jsonContentType),
          ([path, bytes, contentType]) =>
            Effect.gen(function*() {
              const expected = classify(path, bytes)
              fc.pre(expected !== "valid")
              const response = yield* send("POST", path, { body: bytes, headers: { "content-type": contentType } })
              const body = assertRejected(response, label("POST", path, bytes), { status: 400, tag: expected })
              if (expected === "MalformedJson") assert.match(body.message, /not valid JSON/)
            }),
          200
        ),
      30_000
    )

    it.effect("bodies the API does not speak (text, forms, broken multipart, octet-stream): 4xx", () =>
      hostile(
        fc.tuple(
          payloadPath,
          fc.oneof(brokenJsonBytes, fc.constantFrom(validOrderText, validSignUpText).map((t) => Buffer.from(t))),
          otherContentType
        ),
        ([path, bytes, contentType]) =>
          Effect.gen(function*() {
            const response = yield* send("POST", path, { body: bytes, headers: { "content-type": contentType } })
            assertRejected(response, `${label("POST", path, bytes)} as ${contentType}`, { status: 400 })
          }),
        100
      ), 30_000)

    it.effect("JSON nested 65 to 100 000 levels deep: 400 MalformedJson, not a stack overflow", () =>
      hostile(
        fc.tuple(payloadPath, deeplyNested),
        ([path, text]) =>
          Effect.gen(function*() {
            const response = yield* send("POST", path, { body: text })
            assertRejected(response, label("POST", path, text.slice(0, 100)), { status: 400, tag: "MalformedJson" })
          }),
        25
      ), 30_000)

    it.effect(
      "path ids that are not ids, on every /v1/orders/{id} route: 400 (404 for a well-formed id)",
      () =>
        hostile(
          fc.tuple(
            pathId,
            fc.constantFrom(["GET", ""], ["POST", "/pay"], ["POST", "/cancel"], ["POST", "/retry-booking"]),
            fc.option(jsonText, { nil: undefined })
          ),
          ([id, [verb, suffix], body]) =>
            Effect.gen(function*() {
              const target = `/v1/orders/${id}${suffix}`
              const response = yield* send(verb, target, { body })
              const segment = (() => {
                try {
                  return decodeURIComponent(id)
                } catch {
                  return undefined
                }
              })()
              const wellFormed = segment !== undefined &&
                Either.isRight(Schema.decodeUnknownEither(OrderIdFromString)(segment))
              assertRejected(
                response,
                label(verb, target, body),
                wellFormed && /^[0-9]+$/.test(id)
                  ? { status: 404, tag: "OrderNotFound" }
                  : /^[A-Za-z0-9._~!$&'()*+,=:@-]+$/.test(id)
                  ? { status: 400, tag: "HttpApiDecodeError" }
                  : {}
              )
            }),
          200
        ),
      30_000
    )

    it.effect(
      "GET /v1/orders with hostile status, limit and cursor: 200 exactly when the schema accepts them, else 400",
      () =>
        hostile(
          fc.record(
            { status: queryValue, limit: queryValue, cursor: queryValue, junk: queryValue },
            { requiredKeys: [] }
          ),
          (params) =>
            Effect.gen(function*() {
              // as the server reads them: percent-decoded UTF-8 (a lone surrogate arrives as U+FFFD)
              const decoded = Object.fromEntries(
                Object.entries(params).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("utf8")])
              )
              const query = Object.entries(params).map(([k, v]) => `${k}=${percentEncode(v)}`).join("&")
              const target = `/v1/orders?${query}`
              const response = yield* send("GET", target)
              if (Either.isRight(Schema.decodeUnknownEither(ListOrdersParams)(decoded))) {
                assert.strictEqual(response.status, 200, `${label("GET", target)} -> ${response.body.slice(0, 300)}`)
                assert.deepStrictEqual(JSON.parse(response.body), { items: [], nextCursor: null })
              } else {
                assertRejected(response, label("GET", target), { status: 400, tag: "HttpApiDecodeError" })
              }
            }),
          200
        ),
      30_000
    )

    it.effect(
      "Idempotency-Key values that are not keys (empty, blank, >200 chars, control bytes) with a valid order: 400",
      () =>
        hostile(
          notAnIdempotencyKey,
          (key) =>
            Effect.gen(function*() {
              const response = yield* send("POST", "/v1/orders", {
                body: validOrderText,
                headers: { "idempotency-key": key }
              })
              assertRejected(response, `POST /v1/orders with Idempotency-Key ${JSON.stringify(key.slice(0, 100))}`, {
                status: 400,
                tag: ["HttpApiDecodeError", "BadRequest"]
              })
            }),
          100
        ),
      30_000
    )

    it.effect("unknown routes, wrong methods, unparseable request lines: 4xx JSON", () =>
      hostile(
        fc.tuple(
          method,
          routeTarget,
          fc.option(jsonText, { nil: undefined })
        ),
        ([verb, target, body]) =>
          Effect.gen(function*() {
            const known: Record<string, RegExp> = {
              GET: /^\/(v1\/orders(\/\d+)?|healthz|readyz|metrics|openapi\.json|docs)\/?([?#].*)?$/,
              POST: /^\/v1\/(users|orders|orders\/\d+\/(pay|cancel|retry-booking))\/?([?#].*)?$/
            }
            fc.pre(!(known[verb]?.test(target) ?? false) && verb !== "HEAD")
            const response = yield* send(verb, target, { body })
            assertRejected(response, label(verb, target, body))
          }),
        200
      ), 30_000)

    it.effect(
      "bodies declared over 1 MiB, on every endpoint: 413 PayloadTooLarge before the body is read",
      () =>
        hostile(
          fc.tuple(
            fc.constantFrom(
              "/v1/users",
              "/v1/orders",
              "/v1/orders/1/pay",
              "/v1/orders/1/cancel",
              "/v1/orders/1/retry-booking"
            ),
            fc.oneof(fc.constant(1024 * 1024 + 1), fc.integer({ min: 1024 * 1024 + 1, max: 2 ** 40 }))
          ),
          ([path, declared]) =>
            Effect.gen(function*() {
              const { port } = yield* Shop
              // the headers promise a huge body; only its first bytes ever come
              const head = request("POST", path, { body: "", headers: { "content-length": String(declared) } })
              const response = yield* raw(port, Buffer.concat([head, Buffer.from(validOrderText)]), {
                timeoutMs: 5_000
              })
              assertRejected(response, `POST ${path} declaring ${declared} bytes`, {
                status: 413,
                tag: "PayloadTooLarge"
              })
            }),
          30
        ),
      30_000
    )

    it.effect(
      "a real 1 MiB + 1 body gets 413; a chunked body past 1 MiB is cut off at once, not hung",
      () =>
        Effect.gen(function*() {
          const { port } = yield* Shop
          const big = `{"email":"ada@example.com","items":[],"pad":"${"x".repeat(1024 * 1024)}"}`
          for (const path of ["/v1/users", "/v1/orders"]) {
            const whole = yield* send("POST", path, { body: big })
            assertRejected(whole, `POST ${path} with ${big.length} bytes`, { status: 413, tag: "PayloadTooLarge" })

            const head = request("POST", path, {
              headers: { "transfer-encoding": "chunked", "content-type": "application/json" }
            })
            const chunk = Buffer.concat([
              Buffer.from(`${(64 * 1024).toString(16)}\r\n`),
              Buffer.alloc(64 * 1024, 0x20),
              Buffer.from("\r\n")
            ])
            const chunked = yield* raw(port, head, { parts: Array(40).fill(chunk), delayMs: 2, timeoutMs: 5_000 })
            // no status can be sent mid-body: the server resets the connection (documented in GracefulHttp)
            assert.isTrue(chunked.closed, `the connection was closed, not left hanging: ${JSON.stringify(chunked)}`)
            assert.isBelow(chunked.elapsedMs, 4_000)
            if (chunked.status !== 0) assertRejected(chunked, `chunked POST ${path}`)
          }
          yield* assertNothingWritten
          yield* assertHealthy
        }),
      30_000
    )

    it.effect(
      "requests Node itself refuses (bad framing, header overflow, CONNECT, Expect, no Host): 4xx JSON",
      () =>
        Effect.gen(function*() {
          const { port } = yield* Shop
          for (const [name, bytes, status] of nodeRefusedRequests) {
            const response = yield* raw(port, bytes, { timeoutMs: 5_000 })
            assertRejected(response, name, { status })
          }
          // 100-continue is honoured: the (invalid) body is read and refused as usual
          const expect = yield* raw(
            port,
            request("POST", "/v1/orders", { body: "{\"email\":1}", headers: { expect: "100-continue" } }),
            { timeoutMs: 5_000 }
          )
          assertRejected(expect, "Expect: 100-continue", { status: 400, tag: "HttpApiDecodeError" })
          yield* assertNothingWritten
          yield* assertHealthy
        }),
      30_000
    )

    it.effect("and through all of it, the server never answered a 5xx", () =>
      Effect.gen(function*() {
        const metrics = yield* send("GET", "/metrics")
        const lines = metrics.body.split("\n").filter((line) =>
          line.startsWith("http_server_request_duration_seconds_count{")
        )
        assert.isAbove(lines.length, 5)
        assert.deepStrictEqual(lines.filter((line) => /http_response_status_code="5\d\d"/.test(line)), [])
      }))
  }
)

layer(
  shopLayer({ HTTP_REQUEST_TIMEOUT: "1 second", HTTP_HEADERS_TIMEOUT: "500 millis" }),
  { excludeTestServices: true, timeout: "60 seconds" }
)("slow clients: cut off in bounded time, others still served", (it) => {
  it.effect(
    "slow, stalled and unfinished requests get 408 (or a close) within the request timeout; others are served meanwhile",
    () =>
      Effect.gen(function*() {
        const { port } = yield* Shop
        const body = Buffer.from(validOrderText)
        const head = request("POST", "/v1/orders", { body: "", headers: { "content-length": String(body.length) } })
        const clients = {
          "body dribbled a byte per 150 ms": raw(port, head, {
            parts: [...body].map((b) => Buffer.from([b])),
            delayMs: 150,
            timeoutMs: 8_000
          }),
          "body stopped half-way": raw(port, Buffer.concat([head, body.subarray(0, 10)]), { timeoutMs: 8_000 }),
          "no body at all": raw(port, head, { timeoutMs: 8_000 }),
          "headers never finished": raw(port, "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Le", {
            timeoutMs: 8_000
          }),
          "headers dribbled": raw(port, "GET /v1/orders HTTP/1.1\r\n", {
            parts: Array.from({ length: 40 }, (_, i) => `x-${i}: y\r\n`),
            delayMs: 100,
            timeoutMs: 8_000
          }),
          ...Object.fromEntries(
            Array.from({ length: 20 }, (_, i) => [`stalled #${i}`, raw(port, head, { timeoutMs: 8_000 })])
          )
        }
        const [answers, prompt] = yield* Effect.all([
          Effect.all(clients, { concurrency: "unbounded" }),
          // meanwhile, with 25 slow sockets open, a normal request is answered at once
          Effect.delay(send("GET", "/v1/orders?limit=1"), "200 millis").pipe(Effect.timed)
        ], { concurrency: "unbounded" })
        assert.strictEqual(prompt[1].status, 200)
        assert.isBelow(Duration.toMillis(prompt[0]), 1_500, "answered while the slow sockets hang")
        for (const [name, response] of Object.entries(answers)) {
          // request timeout 1 s, checked every 125 ms: cut well before the client's own 8 s
          assert.isTrue(
            response.closed || response.headers.connection === "close",
            `${name}: the server closes the connection (${JSON.stringify(response)})`
          )
          assert.isBelow(response.elapsedMs, 3_000, `${name}: cut off in bounded time`)
          if (response.status !== 0) assertRejected(response, name, { status: 408, tag: "RequestTimeout" })
        }
        assert.isAtLeast(Object.values(answers).filter((r) => r.status === 408).length, 20, "most say why")
        yield* assertNothingWritten
        yield* assertHealthy
      }),
    30_000
  )

  it.effect("a slow body that arrives within the timeout is still served", () =>
    Effect.gen(function*() {
      const { port } = yield* Shop
      const body = Buffer.from(validOrderText)
      const head = request("POST", "/v1/orders", { body: "", headers: { "content-length": String(body.length) } })
      const response = yield* raw(port, head, {
        parts: [body.subarray(0, 20), body.subarray(20, 40), body.subarray(40)],
        delayMs: 150,
        timeoutMs: 5_000
      })
      assert.strictEqual(response.status, 201, response.body)
      assert.strictEqual((yield* rowCounts).orders, 1)
    }))
})

// More pooled connections than concurrent requests: every request must reach its row lock, not time
// out waiting for a connection on a starved machine (that answer, 503, is tested in api.test.ts).
layer(shopLayer({ DATABASE_POOL_SIZE: "24" }), { excludeTestServices: true, timeout: "60 seconds" })(
  "concurrency races and legal-but-weird input: exactly what valid requests ask for is written",
  (it) => {
    const createOrder = (headers: Record<string, string> = {}) =>
      Effect.map(send("POST", "/v1/orders", { body: validOrderText, headers }), (r) => {
        assert.strictEqual(r.status, 201, r.body)
        return JSON.parse(r.body).id as number
      })

    it.effect("N concurrent pays of one order, each on its own connection: exactly one 200, the rest 409", () =>
      Effect.gen(function*() {
        const id = yield* createOrder()
        const results = yield* Effect.all(Array.from({ length: 20 }, () => send("POST", `/v1/orders/${id}/pay`)), {
          concurrency: "unbounded"
        })
        assert.deepStrictEqual(results.map((r) => r.status).sort(), [200, ...Array(19).fill(409)])
        for (const r of results.filter((r) => r.status === 409)) {
          const body = assertRejected(r, "losing pay", { status: 409, tag: "InvalidTransition" })
          assert.deepInclude(body, { id, status: "paid", attempted: "paid" })
        }
        const { sql } = yield* Shop
        const events = yield* sql<{ n: string }>`SELECT count(*) AS n FROM order_events WHERE order_id = ${id}`.pipe(
          Effect.orDie
        )
        assert.strictEqual(Number(events[0].n), 1)
      }))

    it.effect(
      "pays and cancels of one pending order at once: one winner per transition, every loser 409 naming the status",
      () =>
        Effect.gen(function*() {
          const { sql } = yield* Shop
          yield* forAll(
            // up to 10 + 10, in the order they go out
            fc.array(fc.constantFrom<"pay" | "cancel">("pay", "cancel"), { minLength: 2, maxLength: 20 }),
            (actions) =>
              Effect.gen(function*() {
                const id = yield* createOrder()
                const cancels = actions.filter((a) => a === "cancel").length
                const results = yield* Effect.all(
                  actions.map((action) =>
                    Effect.map(send("POST", `/v1/orders/${id}/${action}`), (response) => ({ action, response }))
                  ),
                  { concurrency: "unbounded" }
                )
                const won = (action: string) => results.filter((r) => r.action === action && r.response.status === 200)
                const [paid, cancelled] = [won("pay").length, won("cancel").length]
                const events = yield* sql<{ fromStatus: string; toStatus: string }>`
                SELECT from_status, to_status FROM order_events WHERE order_id = ${id} ORDER BY id`.pipe(Effect.orDie)
                const [final] = yield* sql<{ status: string }>`SELECT status FROM orders WHERE id = ${id}`.pipe(
                  Effect.orDie
                )
                const chain = events.map((e) => `${e.fromStatus}->${e.toStatus}`)
                if (cancels > 0) {
                  // cancel is legal from pending and from paid: the first cancel always wins, whatever came before
                  assert.strictEqual(cancelled, 1, "exactly one cancel won")
                  assert.isAtMost(paid, 1, "at most one pay won")
                  assert.strictEqual(final.status, "cancelled")
                  assert.deepStrictEqual(
                    chain,
                    paid === 1 ? ["pending->paid", "paid->cancelled"] : ["pending->cancelled"]
                  )
                } else {
                  assert.strictEqual(paid, 1, "exactly one pay won")
                  assert.strictEqual(final.status, "paid")
                  assert.deepStrictEqual(chain, ["pending->paid"])
                }
                assert.strictEqual(events.length, paid + cancelled, "one event row per winning request")
                for (const { action, response } of results) {
                  const attempted = action === "pay" ? "paid" : "cancelled"
                  if (response.status === 200) {
                    assert.strictEqual(JSON.parse(response.body).status, attempted)
                    continue
                  }
                  const body = assertRejected(response, `losing ${action}`, { status: 409, tag: "InvalidTransition" })
                  assert.strictEqual(body.id, id)
                  assert.strictEqual(body.attempted, attempted)
                  // the status it names is one the order really passed through
                  assert.include(
                    paid === 1 ? ["paid", "cancelled"] : cancels > 0 ? ["cancelled"] : ["paid"],
                    body.status
                  )
                  if (action === "cancel") assert.strictEqual(body.status, "cancelled")
                  assert.include(body.message, `is "${body.status}"`)
                }
              }),
            12
          )
          const duplicates = yield* sql`
          SELECT order_id, to_status FROM order_events GROUP BY 1, 2 HAVING count(*) > 1`.pipe(Effect.orDie)
          assert.deepStrictEqual(duplicates, [], "no transition happened twice")
        }),
      30_000
    )

    it.effect("the same Idempotency-Key from many connections at once: one order; another body with it: 422", () =>
      Effect.gen(function*() {
        const before = yield* rowCounts
        const other = JSON.stringify({
          email: "bob@example.com",
          items: [{ sku: "MUG-1", quantity: 1, unitPriceCents: 1 }]
        })
        const results = yield* Effect.all(
          Array.from(
            { length: 16 },
            (_, i) =>
              send("POST", "/v1/orders", {
                body: i % 4 === 3 ? other : validOrderText,
                headers: { "idempotency-key": "race-1" }
              })
          ),
          { concurrency: "unbounded" }
        )
        const created = results.filter((r) => r.status === 201).map((r) => JSON.parse(r.body))
        assert.strictEqual(new Set(created.map((o) => o.id)).size, 1, "every 201 is the same order")
        for (const r of results.filter((r) => r.status !== 201)) {
          assertRejected(r, "other body, same key", { status: 422, tag: "IdempotencyConflict" })
        }
        const winnerIsOther = created[0].email === "bob@example.com"
        assert.strictEqual(created.length, winnerIsOther ? 4 : 12, "the winner's body replays, the other one conflicts")
        assert.strictEqual((yield* rowCounts).orders, before.orders + 1)
      }))

    it.effect("the same e-mail signed up from many connections at once, in any case: one 201, the rest 409", () =>
      Effect.gen(function*() {
        const before = yield* rowCounts
        const emails = ["race@example.com", "RACE@example.com", "Race@Example.COM", " race@example.com "]
        const results = yield* Effect.all(
          Array.from({ length: 8 }, (_, i) =>
            send("POST", "/v1/users", {
              body: JSON.stringify({
                name: "Racer",
                email: emails[i % emails.length],
                password: "correct horse battery"
              })
            })),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(results.map((r) => r.status).sort(), [201, ...Array(7).fill(409)])
        for (const r of results.filter((r) => r.status === 409)) {
          assertRejected(r, "second sign-up", { status: 409, tag: "EmailTaken" })
        }
        const after = yield* rowCounts
        assert.strictEqual(after.users, before.users + 1)
        assert.strictEqual(after.outbox, before.outbox + 1)
      }))

    it.effect(
      "legal but weird e-mails and names (any script, emoji, look-alikes) are stored exactly, not mangled",
      () =>
        Effect.gen(function*() {
          const { sql } = yield* Shop
          const text = fc.string({
            unit: fc.oneof(nastyChar, fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })),
            minLength: 1,
            maxLength: 16
          })
          const decodeEmail = Schema.decodeUnknownEither(EmailFromInput)
          const decodeName = Schema.decodeUnknownEither(CreateUser.fields.name)
          // what the shop must store: the decoded (trimmed, lowercased) value, exactly
          const email = fc.tuple(text, text, text).map(([local, domain, tld]) => `${local}@${domain}.${tld}`)
            .filter((e) => Either.isRight(decodeEmail(e)))
          yield* forAll(
            email,
            (input) =>
              Effect.gen(function*() {
                const expected = Either.getOrThrow(decodeEmail(input))
                const created = yield* send("POST", "/v1/orders", {
                  body: JSON.stringify({ email: input, items: [{ sku: "X", quantity: 1, unitPriceCents: 1 }] })
                })
                assert.strictEqual(created.status, 201, `${JSON.stringify(input)}: ${created.body}`)
                const { id, email: answered } = JSON.parse(created.body)
                const [row] = yield* sql<{ email: string }>`SELECT email FROM orders WHERE id = ${id}`.pipe(
                  Effect.orDie
                )
                assert.strictEqual(answered, expected, `answered as sent: ${JSON.stringify(input)}`)
                assert.strictEqual(row.email, expected, `stored as sent: ${JSON.stringify(input)}`)
              }),
            60,
            ["\u00c5sa@\u00e9xample.com", "\u{1f642}@\u{1f642}.\u{1f642}", "ad\u0430@example.com", "\u0130@b.co"]
          )
          yield* forAll(
            text.map((t) => `${t} ${t}`).filter((n) => Either.isRight(decodeName(n))),
            (name) =>
              Effect.gen(function*() {
                const address = `u${Math.random().toString(36).slice(2)}@example.com`
                const created = yield* send("POST", "/v1/users", {
                  body: JSON.stringify({ name, email: address, password: "correct horse battery" })
                })
                assert.strictEqual(created.status, 201, `${JSON.stringify(name)}: ${created.body}`)
                const [row] = yield* sql<{ name: string }>`SELECT name FROM users WHERE email = ${address}`.pipe(
                  Effect.orDie
                )
                assert.strictEqual(
                  row.name,
                  Either.getOrThrow(decodeName(name)),
                  `stored as sent: ${JSON.stringify(name)}`
                )
              }),
            8,
            ["\u202eevil\u202c \u{1f642}", "Z\u0351a\u0362l\u0337g\u0358o"]
          )
        }),
      30_000
    )

    it.effect(
      "legal but weird Idempotency-Keys (quotes, %, SQL, latin-1 bytes, 200 chars) round-trip",
      () =>
        Effect.gen(function*() {
          const before = yield* rowCounts
          const seen = new Map<string, number>()
          const legal = fc
            .string({
              unit: fc.oneof(
                fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
                fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
                fc.constantFrom("'", "\"", "%", ";", "--", " ", "\t")
              ),
              minLength: 1,
              maxLength: 200
            })
            .map((key) => key.trim())
            .filter((key) => key.length >= 1 && key.length <= 200)
          yield* forAll(
            legal,
            (key) =>
              Effect.gen(function*() {
                const first = yield* send("POST", "/v1/orders", {
                  body: validOrderText,
                  headers: { "idempotency-key": key }
                })
                assert.strictEqual(first.status, 201, `${JSON.stringify(key)}: ${first.body}`)
                const id = JSON.parse(first.body).id
                if (seen.has(key)) assert.strictEqual(id, seen.get(key))
                seen.set(key, id)
                const again = yield* send("POST", "/v1/orders", {
                  body: validOrderText,
                  headers: { "idempotency-key": key }
                })
                assert.strictEqual(JSON.parse(again.body).id, id, "a retry returns the same order")
                const other = yield* send("POST", "/v1/orders", {
                  body: validOrderText.replace("ada@", "bob@"),
                  headers: { "idempotency-key": key }
                })
                const conflict = assertRejected(other, `other body, key ${JSON.stringify(key)}`, {
                  status: 422,
                  tag: "IdempotencyConflict"
                })
                assert.strictEqual(conflict.key, key, "the key comes back as sent")
              }),
            60
          )
          assert.strictEqual((yield* rowCounts).orders, before.orders + seen.size)
        }),
      30_000
    )
  }
)
