/**
 * Traces and metrics over OTLP from the real process, received by a real OTLP/HTTP endpoint the test
 * starts (a `node:http` server that decodes the JSON payloads, as a collector would).
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import { freshDatabase } from "./database.js"
import { killLeftovers, request, start, tempDir } from "./harness.js"

afterEach(killLeftovers)

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: { readonly stringValue?: string } }>
}

const SERVER = 2
const CLIENT = 3

/** An OTLP/HTTP receiver on an ephemeral port: every JSON payload posted to it, by path. */
const receiver = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly received: Array<{ path: string; body: any }>; server: Http.Server }>(
    (resume) => {
      const received: Array<{ path: string; body: any }> = []
      const server = Http.createServer((req, res) => {
        let text = ""
        req.setEncoding("utf8")
        req.on("data", (chunk) => (text += chunk))
        req.on("end", () => {
          received.push({ path: req.url ?? "", body: JSON.parse(text) })
          res.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as { port: number }
        resume(Effect.succeed({ url: `http://127.0.0.1:${address.port}`, received, server }))
      })
    }
  ),
  ({ server }) => Effect.sync(() => server.close())
)

/** The real process on a fresh database, exporting to `url`. */
const startExporting = (url: string, env: Record<string, string>) =>
  Effect.gen(function*() {
    const db = yield* freshDatabase({ migrate: true })
    return yield* start({
      DATABASE_URL: db.urlFor("shop-under-test"),
      MAIL_DIR: yield* tempDir("shop-mail-"),
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      ...env
    })
  })

const spansOf = (received: ReadonlyArray<{ path: string; body: any }>): Array<OtlpSpan> =>
  received.filter((r) => r.path === "/v1/traces").flatMap((r) =>
    r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans))
  )
const metricsOf = (received: ReadonlyArray<{ path: string; body: any }>): Array<any> =>
  received.filter((r) => r.path === "/v1/metrics").flatMap((r) =>
    r.body.resourceMetrics.flatMap((rm: any) => rm.scopeMetrics.flatMap((sm: any) => sm.metrics))
  )
const attribute = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue

describe("OTLP export of the real process", () => {
  it.scopedLive("spans of one request with their parent links, and the shutdown's step durations on exit", () =>
    Effect.gen(function*() {
      const otlp = yield* receiver
      const shop = yield* startExporting(otlp.url, { OTEL_SERVICE_NAME: "shop-under-test" })
      // the caller's trace: the server span must continue it
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      const callerSpan = "00f067aa0ba902b7"
      const created = yield* request(shop.port, "POST", "/v1/orders", {
        email: "otlp@example.com",
        items: [{ sku: "TEA-GREEN-250", quantity: 1, unitPriceCents: 450 }]
      }, { traceparent: `00-${traceId}-${callerSpan}-01` })
      assert.strictEqual(created.status, 201)

      yield* shop.kill("SIGTERM")
      assert.strictEqual((yield* shop.awaitExit()).code, 0)

      // the final flush ran after the shutdown, before the process exited
      const spans = spansOf(otlp.received)
      const server = spans.find((s) => s.name === "http.server POST" && attribute(s, "http.route") === "/v1/orders")
      assert.isDefined(server, `spans: ${spans.map((s) => s.name).join(", ")}`)
      assert.strictEqual(server!.kind, SERVER)
      assert.strictEqual(server!.traceId, traceId)
      assert.strictEqual(server!.parentSpanId, callerSpan)

      const handler = spans.find((s) => s.name === "Orders.create")
      assert.isDefined(handler)
      assert.strictEqual(handler!.parentSpanId, server!.spanId)
      assert.strictEqual(handler!.traceId, traceId)

      const byId = new Map(spans.map((s) => [s.spanId, s]))
      const under = (span: OtlpSpan, ancestor: OtlpSpan): boolean => {
        const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)
        return parent !== undefined && (parent.spanId === ancestor.spanId || under(parent, ancestor))
      }
      const statements = spans.filter((s) => s.name === "sql.execute" && under(s, handler!))
      assert.isNotEmpty(statements, "the order's INSERT is a child of the handler's span")
      for (const statement of statements) assert.strictEqual(statement.kind, CLIENT)

      const resource = otlp.received.find((r) => r.path === "/v1/traces")!.body.resourceSpans[0].resource
      assert.deepInclude(resource.attributes, { key: "service.name", value: { stringValue: "shop-under-test" } })

      const metrics = metricsOf(otlp.received)
      const steps = metrics.filter((m) => m.name === "lifecycle.shutdown.step.duration")
        .flatMap((m) => m.gauge.dataPoints)
        .map((p: any) => p.attributes.find((a: any) => a.key === "step")?.value.stringValue)
      assert.include(steps, "http drain")
      assert.include(steps, "worker fulfillment")
      assert.isDefined(metrics.find((m) => m.name === "http.server.request.duration"))
    }))

  it.scopedLive("OTEL_TRACES_SAMPLER=parentbased_traceidratio: unsampled roots export nothing, a sampled caller's trace is kept", () =>
    Effect.gen(function*() {
      const otlp = yield* receiver
      const shop = yield* startExporting(otlp.url, {
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0"
      })
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* request(shop.port, "GET", "/v1/orders/1")).status, 404)
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      yield* request(shop.port, "GET", "/v1/orders/2", undefined, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` })
      yield* shop.kill("SIGTERM")
      assert.strictEqual((yield* shop.awaitExit()).code, 0)

      const servers = spansOf(otlp.received).filter((s) => s.name === "http.server GET")
      assert.deepStrictEqual(servers.map((s) => s.traceId), [traceId])
      assert.isTrue(spansOf(otlp.received).every((s) => s.traceId === traceId), "no span of an unsampled trace")
    }))
})
