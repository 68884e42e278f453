/**
 * The no-database comparison's four servers must do the same work, or CPU per request compares
 * different things: the same requests get the same statuses from each, the same bodies where the
 * request was valid, and each exits 0 on SIGTERM. They run from `dist`, as `pnpm compare` runs them
 * (the test run's global setup builds it).
 */
import { assert, describe, it } from "@effect/vitest"
import { OtlpReceiver } from "@shop/telemetry"
import * as Effect from "effect/Effect"
import * as BenchDatabase from "../src/BenchDatabase.js"
import * as Items from "../src/items/Items.js"
import { catalogueSize, itemOf } from "../src/items/ItemsApi.js"
import * as ShopProcess from "../src/ShopProcess.js"

interface Call {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly body?: string
}

const calls: ReadonlyArray<readonly [Call, number]> = [
  [{ method: "GET", path: "/items/5" }, 200],
  [{ method: "GET", path: `/items/${catalogueSize}` }, 200],
  [{ method: "GET", path: `/items/${catalogueSize + 1}` }, 404],
  [{ method: "GET", path: "/items/0" }, 400],
  [{ method: "GET", path: "/items/abc" }, 400],
  [{ method: "POST", path: "/items", body: Items.itemBody(1) }, 201],
  [{ method: "POST", path: "/items", body: JSON.stringify({ name: "", priceCents: 1, tags: [] }) }, 400],
  [{ method: "POST", path: "/items", body: JSON.stringify({ name: "x", priceCents: -1, tags: [] }) }, 400],
  [{ method: "POST", path: "/items", body: JSON.stringify({ name: "x", priceCents: 1.5, tags: [] }) }, 400],
  [{ method: "POST", path: "/items", body: JSON.stringify({ name: "x", priceCents: 1, tags: ["t".repeat(21)] }) }, 400],
  [{ method: "POST", path: "/items", body: JSON.stringify({ name: "x", priceCents: 1 }) }, 400],
  [{ method: "POST", path: "/items", body: "{not json" }, 400],
  [{ method: "POST", path: "/items", body: Items.itemBody(2) }, 201]
]

const send = (baseUrl: string, { body, method, path }: Call) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body })
    })
    const text = await response.text()
    return { status: response.status, type: response.headers.get("content-type"), body: JSON.parse(text) as unknown }
  })

describe("the no-database servers of pnpm compare", () => {
  for (const stack of Items.stacks) {
    it.scopedLive(`${stack.name}: the items contract, then exit 0 on SIGTERM`, () =>
      Effect.gen(function*() {
        const collector = yield* OtlpReceiver.start({ keep: false })
        const server = yield* ShopProcess.start({
          name: stack.key,
          script: stack.script,
          cwd: yield* BenchDatabase.tempDir("items-test-"),
          echo: false,
          readyTimeout: "30 seconds",
          env: {
            PATH: process.env.PATH,
            ...stack.env,
            ...("otlp" in stack ? { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } : {})
          }
        })
        const answers = []
        for (const [call] of calls) answers.push(yield* send(server.baseUrl, call))
        assert.deepStrictEqual(
          answers.map((a, i) => `${calls[i][0].method} ${calls[i][0].path} ${calls[i][0].body ?? ""} → ${a.status}`),
          calls.map(([c, status]) => `${c.method} ${c.path} ${c.body ?? ""} → ${status}`)
        )
        for (const answer of answers) assert.match(answer.type ?? "", /^application\/json/)
        assert.deepStrictEqual(answers[0].body, itemOf(5))
        assert.deepStrictEqual(answers[2].body, { _tag: "ItemNotFound", id: catalogueSize + 1 })
        assert.deepStrictEqual(answers[5].body, { ...JSON.parse(Items.itemBody(1)), id: catalogueSize + 1 })
        assert.deepStrictEqual(answers[12].body, { ...JSON.parse(Items.itemBody(2)), id: catalogueSize + 2 })
        const exited = yield* server.terminate("10 seconds")
        assert.deepStrictEqual([exited.code, exited.signal], [0, null])
        // the traced stack really exports (flushed on exit): a server span per request that reached a
        // handler (those refused by decoding get none on the fast path)
        if ("otlp" in stack) {
          assert.isAtLeast(
            collector.spanCount(),
            calls.filter(([, status]) => status !== 400).length
          )
        } else assert.strictEqual(collector.spanCount(), 0)
      }))
  }
})
