/**
 * Traces and metrics over OTLP from the real process, received by a real OTLP/HTTP endpoint the test
 * starts (`OtlpReceiver`: a `node:http` server that decodes the JSON payloads, as a collector would).
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { OtlpReceiver } from "@shop/telemetry"
import * as Effect from "effect/Effect"
import { freshDatabase } from "./database.js"
import { killLeftovers, request, start, tempDir } from "./harness.js"

afterEach(killLeftovers)

const SERVER = 2
const CLIENT = 3

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

const attribute = (span: OtlpReceiver.Span, key: string) =>
  span.attributes.find((a) => a.key === key)?.value.stringValue

describe("OTLP export of the real process", () => {
  it.scopedLive("spans of one request with their parent links, and the shutdown's step durations on exit", () =>
    Effect.gen(function*() {
      const otlp = yield* OtlpReceiver.start({ keep: true })
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
      const spans = otlp.spans()
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
      const under = (span: OtlpReceiver.Span, ancestor: OtlpReceiver.Span): boolean => {
        const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)
        return parent !== undefined && (parent.spanId === ancestor.spanId || under(parent, ancestor))
      }
      const statements = spans.filter((s) => s.name === "sql.execute" && under(s, handler!))
      assert.isNotEmpty(statements, "the order's INSERT is a child of the handler's span")
      for (const statement of statements) assert.strictEqual(statement.kind, CLIENT)

      const resource = otlp.received.find((r) => r.path === "/v1/traces")!.body.resourceSpans[0].resource
      assert.deepInclude(resource.attributes, { key: "service.name", value: { stringValue: "shop-under-test" } })

      const metrics = otlp.metrics()
      const steps = metrics.filter((m) => m.name === "lifecycle.shutdown.step.duration")
        .flatMap((m) => m.gauge.dataPoints)
        .map((p: any) => p.attributes.find((a: any) => a.key === "step")?.value.stringValue)
      assert.include(steps, "http drain")
      assert.include(steps, "worker fulfillment")
      assert.isDefined(metrics.find((m) => m.name === "http.server.request.duration"))
    }))

  it.scopedLive("OTEL_TRACES_SAMPLER=parentbased_traceidratio: unsampled roots export nothing, a sampled caller's trace is kept", () =>
    Effect.gen(function*() {
      const otlp = yield* OtlpReceiver.start({ keep: true })
      const shop = yield* startExporting(otlp.url, {
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0"
      })
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* request(shop.port, "GET", "/v1/orders/1")).status, 404)
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      yield* request(shop.port, "GET", "/v1/orders/2", undefined, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` })
      yield* shop.kill("SIGTERM")
      assert.strictEqual((yield* shop.awaitExit()).code, 0)

      const servers = otlp.spans().filter((s) => s.name === "http.server GET")
      assert.deepStrictEqual(servers.map((s) => s.traceId), [traceId])
      assert.isTrue(otlp.spans().every((s) => s.traceId === traceId), "no span of an unsampled trace")
    }))
})
