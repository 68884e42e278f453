/**
 * The peers must answer like the shop and write what it writes, or the side-by-side benchmark compares
 * different work. The reference is the shop itself, `apps/shop/dist/main.js` as the bench runs it (run
 * `pnpm build` first): the same requests go to it and to each peer, each on a fresh migrated database,
 * so the ids line up too. Only 400 bodies may differ (each stack words its own message), not their `_tag`.
 *
 * The database server is the test run's (`@shop/database`'s global setup: `DATABASE_URL`, else embedded).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, layer } from "@effect/vitest"
import { Database, Migrations } from "@shop/database"
import { TestDatabase } from "@shop/database/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as BenchDatabase from "../src/BenchDatabase.js"
import * as BareNode from "../src/peers/BareNode.js"
import * as FastifyPeer from "../src/peers/FastifyPeer.js"
import type { Peer, PeerOptions } from "../src/peers/OrdersSql.js"
import * as Peers from "../src/peers/Peers.js"
import * as ShopProcess from "../src/ShopProcess.js"

interface Call {
  readonly path: string
  readonly body?: string | Uint8Array
  readonly headers?: Record<string, string>
}
const json = { "content-type": "application/json" }
const post = (body: unknown, headers: Record<string, string> = {}): Call => ({
  path: "/v1/orders",
  body: JSON.stringify(body),
  headers: { ...json, ...headers }
})
const line = (sku = "TEA-1", quantity: unknown = 1, unitPriceCents: unknown = 100) => ({
  sku,
  quantity,
  unitPriceCents
})
const order = (...items: ReadonlyArray<unknown>) => ({ email: "ada@example.com", items })
const valid = order(line())
const get = (id: string | number): Call => ({ path: `/v1/orders/${id}` })

/** Requests and the shop's status for each, in order: ids 1 to 7 are created. */
const scenario: ReadonlyArray<readonly [Call, number]> = [
  [
    post({
      email: " Ada@Example.COM ",
      items: [{ ...line(" TEA-GREEN-250 ", 2, 450), gift: true }, line("MUG", 1, 1200)]
    }),
    201
  ],
  [get(1), 200],
  [post(valid, { "idempotency-key": "key-1" }), 201],
  [post(valid, { "idempotency-key": "key-1" }), 201], // the replay: order 2 again
  [post(order(line("TEA-1", 2)), { "idempotency-key": "key-1" }), 422],
  [get(2), 200],
  [post(order(line("X".repeat(64), 1000, 100_000_000), line("FREE", 1, 0))), 201],
  [post(order(...Array.from({ length: 100 }, (_, i) => line(`SKU-${i}`)))), 201],
  [post({ email: `${"a".repeat(249)}@b.co`, items: [line()] }), 201], // 254 characters
  [post({ email: `${"😀".repeat(124)}@b.co`, items: [line()] }), 201], // 253 UTF-16 units
  [{ path: "/v1/orders", body: new TextEncoder().encode(JSON.stringify(valid)) }, 201], // no content type: JSON
  ...[3, 4, 5, 6, 7].map((id) => [get(id), 200] as const),
  [get(999), 404],
  ...["abc", "0", "007", "-1", "1e3", "1.5", "9007199254740992", "12345678901234567"].map((id) =>
    [get(id), 400] as const
  ),
  ...[
    {},
    null,
    [valid],
    { email: "not-an-email", items: [line()] },
    { email: "a b@c.de", items: [line()] },
    { email: 42, items: [line()] },
    { email: `${"a".repeat(250)}@b.co`, items: [line()] }, // 255 characters
    { email: `${"😀".repeat(125)}@b.co`, items: [line()] }, // 255 UTF-16 units, 130 code points
    { email: "ada@example.com" },
    order(),
    order(...Array.from({ length: 101 }, () => line())),
    { email: "ada@example.com", items: line() }, // one line, not a list of them
    ...["", "   ", "X".repeat(65), "A B", "TÉA"].map((sku) => order(line(sku))),
    ...[0, 1001, 1.5, "2"].map((quantity) => order(line("A", quantity))),
    ...[-1, 100_000_001, "1"].map((price) => order(line("A", 1, price))),
    order({ sku: "A", quantity: 1 })
  ].map((body) => [post(body), 400] as const),
  [post(valid, { "idempotency-key": "" }), 400],
  [post(valid, { "idempotency-key": "k".repeat(201) }), 400],
  [{ path: "/v1/orders", body: "{bad", headers: json }, 400],
  [{ path: "/v1/orders", body: "", headers: json }, 400],
  [{ path: "/v1/orders", body: JSON.stringify(valid), headers: { "content-type": "text/plain" } }, 400]
]

const timestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

const call = (baseUrl: string, { body, headers = {}, path }: Call) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers,
      ...(body === undefined ? {} : { body })
    })
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/, path)
    // times differ between runs; their format may not
    const parsed = JSON.parse(
      await response.text(),
      (key, value) => ["createdAt", "updatedAt", "at"].includes(key) && timestamp.test(value) ? "<time>" : value
    )
    const label = `${body === undefined ? "GET" : "POST"} ${path} ${String(body ?? "").slice(0, 50)}`
    return { label, status: response.status, body: response.status === 400 ? { _tag: parsed._tag } : parsed }
  })

const rows = (sql: SqlClient.SqlClient) =>
  Effect.all({
    orders: sql`SELECT id, email, status, total_cents, tracking_number, idempotency_key FROM orders ORDER BY id`,
    items: sql`SELECT order_id, line, sku, quantity, unit_price_cents FROM order_items ORDER BY order_id, line`,
    events: sql`SELECT count(*)::int AS n FROM order_events`
  })

/** A fresh migrated database, dropped with the scope. */
const freshDatabase = Effect.gen(function*() {
  const url = yield* TestDatabase.create(yield* TestDatabase.adminUrl)
  const context = yield* Layer.build(
    Database.layerFromUrl({ url, poolSize: 2, connectTimeout: "5 seconds", idleTimeout: "5 seconds" })
  )
  yield* Effect.provide(Migrations.run, context)
  return { url, sql: Context.get(context, SqlClient.SqlClient) }
})

/** The scenario against what `serve` starts on a fresh database, and the rows it left. */
const observe = <E>(serve: (url: Redacted.Redacted) => Effect.Effect<string, E, Scope.Scope>) =>
  Effect.scoped(Effect.gen(function*() {
    const { sql, url } = yield* freshDatabase
    const baseUrl = yield* serve(url)
    const transcript = yield* Effect.forEach(scenario, ([request]) => call(baseUrl, request))
    return { transcript, rows: yield* rows(sql) }
  }))

const inProcess = (start: (options: PeerOptions) => Promise<Peer>) => (url: Redacted.Redacted) =>
  Effect.acquireRelease(
    Effect.promise(() => start({ port: 0, databaseUrl: Redacted.value(url), poolSize: 2 })),
    (peer) => Effect.promise(() => peer.close())
  ).pipe(Effect.map((peer) => `http://127.0.0.1:${peer.port}`))

const spawn = (name: string, script: string | undefined, url: Redacted.Redacted, onLine?: (line: string) => void) =>
  Effect.flatMap(BenchDatabase.tempDir("peers-test-"), (cwd) =>
    ShopProcess.start({
      name,
      script,
      cwd,
      echo: false,
      onLine,
      readyTimeout: "30 seconds",
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: Redacted.value(url),
        LOG_LEVEL: "Warn",
        MAIL_DIR: `${cwd}/mail`,
        // the shop's workers stay parked: only the requests touch the rows
        FULFILLMENT_INTERVAL: "1 hour",
        OUTBOX_SWEEP_INTERVAL: "1 hour",
        CARRIER_DISPATCH_INTERVAL: "1 hour"
      }
    }))

type Observed = Effect.Effect.Success<ReturnType<typeof observe>>

/** The shop's answers and rows, observed once for the file. */
class Reference extends Context.Tag("peers.test/Reference")<Reference, Observed>() {
  static readonly layer = Layer.effect(
    Reference,
    observe((url) => Effect.map(spawn("shop", undefined, url), (_) => _.baseUrl))
  )
}

layer(Reference.layer, { excludeTestServices: true })("peers", (it) => {
  it.effect("the shop answers the scenario as expected", () =>
    Effect.gen(function*() {
      const { rows, transcript } = yield* Reference
      // labelled, so that a failure names the request
      assert.deepStrictEqual(
        transcript.map((_) => `${_.status} ${_.label}`),
        scenario.map(([, status], i) => `${status} ${transcript[i].label}`)
      )
      const first = {
        id: 1,
        status: "pending",
        email: "ada@example.com",
        items: [{ sku: "TEA-GREEN-250", quantity: 2, unitPriceCents: 450 }, {
          sku: "MUG",
          quantity: 1,
          unitPriceCents: 1200
        }],
        totalCents: 2100,
        trackingNumber: null,
        createdAt: "<time>",
        updatedAt: "<time>"
      }
      assert.deepStrictEqual(transcript[0].body, first)
      assert.deepStrictEqual(transcript[1].body, {
        ...first,
        events: [],
        carrier: { attempts: 0, shipmentId: null, lastError: null, failed: false }
      })
      assert.deepStrictEqual(transcript[3].body, transcript[2].body)
      assert.deepStrictEqual(transcript[4].body, {
        key: "key-1",
        message: "idempotency key \"key-1\" was already used with a different request body",
        _tag: "IdempotencyConflict"
      })
      assert.deepStrictEqual(transcript.find((_) => _.status === 404)?.body, {
        id: 999,
        message: "order 999 does not exist",
        _tag: "OrderNotFound"
      })
      assert.deepStrictEqual([rows.orders.length, rows.items.length, rows.events], [7, 108, [{ n: 0 }]])
    }))

  for (const [name, start] of [["bare node", BareNode.start], ["fastify", FastifyPeer.start]] as const) {
    it.effect(`${name}: the shop's statuses, bodies and rows`, () =>
      Effect.gen(function*() {
        const reference = yield* Reference
        const peer = yield* observe(inProcess(start))
        assert.deepStrictEqual(peer.transcript, reference.transcript)
        assert.deepStrictEqual(peer.rows, reference.rows)
      }))
  }

  for (const [name, script] of [["bare node", Peers.bareNodeJs], ["fastify", Peers.fastifyJs]] as const) {
    it.effect(`${name} from dist: ready, one "listening on" line, exit 0 on SIGTERM`, () =>
      Effect.scoped(Effect.gen(function*() {
        const { url } = yield* freshDatabase
        const lines: Array<string> = []
        const peer = yield* spawn(name, script, url, (line) => lines.push(line))
        const ready = yield* call(peer.baseUrl, { path: "/readyz" })
        assert.deepStrictEqual(ready.body, { status: "ready" })
        const exited = yield* peer.terminate("10 seconds")
        assert.deepStrictEqual([exited.code, exited.signal], [0, null])
        assert.deepStrictEqual(lines, [`listening on ${peer.baseUrl}`])
      })))
  }
})
