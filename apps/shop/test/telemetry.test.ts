/**
 * With no OTLP endpoint configured, nothing opens a span: not the fast HTTP server, not the handlers'
 * `Effect.fn`, not the SQL statements. A tracer that records every span it is asked for shows it, and
 * shows the same requests opening spans when tracing is on (so the recorder would see them).
 */
import { assert, describe, it } from "@effect/vitest"
import { Otlp, RecordingTracer } from "@shop/telemetry"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { anOrder, call, idOf } from "./fixtures.js"
import { api, ApiClient } from "./layers.js"

const requests = (baseUrl: string) =>
  Effect.gen(function*() {
    const created = yield* call(baseUrl, "POST", "/v1/orders", anOrder())
    assert.strictEqual(created.status, 201)
    assert.strictEqual((yield* call(baseUrl, "GET", `/v1/orders/${idOf(created)}`)).status, 200)
  })

/** The API built with `tracing` (a tracer, tracer settings) for the test's scope; its client. */
const apiWith = (tracing: Layer.Layer<never>) =>
  Effect.map(Layer.build(api().pipe(Layer.provide(tracing))), (context) => Context.get(context, ApiClient))

describe("tracing", () => {
  it.scopedLive("Otlp.layerFromEnv without OTEL_EXPORTER_OTLP_ENDPOINT: no span is opened for a request", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* RecordingTracer.make
      const noEndpoint = Otlp.layerFromEnv("shop").pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
      )
      const { baseUrl } = yield* apiWith(Layer.merge(noEndpoint, Layer.setTracer(tracer)))
      names.length = 0 // start-up's own (migrations) do not matter here
      yield* requests(baseUrl)
      assert.deepStrictEqual(names, [])
    }))

  it.scopedLive("with tracing on, the same requests open the server, handler and SQL spans", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* RecordingTracer.make
      const { baseUrl } = yield* apiWith(Layer.merge(Layer.setTracerEnabled(true), Layer.setTracer(tracer)))
      names.length = 0
      yield* requests(baseUrl)
      assert.includeMembers(names, [
        "http.server POST",
        "Orders.create",
        "http.server GET",
        "Orders.get",
        "sql.execute"
      ])
    }))
})
