/**
 * Traces and pushed metrics over OTLP, when an OpenTelemetry collector is configured.
 *
 * `OTEL_EXPORTER_OTLP_ENDPOINT` set (e.g. `http://collector:4318`): spans (requests, SQL statements,
 * ticks, bookings, e-mails) go to `<endpoint>/v1/traces` and every `effect/Metric` to
 * `<endpoint>/v1/metrics`, as OTLP/HTTP JSON, by `@effect/opentelemetry`'s exporters (no OpenTelemetry
 * SDK in the process). Both flush once more when the process stops, after the shutdown, so the last
 * shutdown's step durations reach the collector although nothing scrapes a stopped process.
 * Unset: the tracer is disabled, and no span is created anywhere (the fast HTTP path then opens none).
 *
 * `OTEL_SERVICE_NAME` (default `shop`), `OTEL_BSP_SCHEDULE_DELAY` (span export interval in ms, default
 * 5000) and `OTEL_METRIC_EXPORT_INTERVAL` (ms, default 60000) are the OpenTelemetry SDK's names.
 */
import * as OtlpMetrics from "@effect/opentelemetry/OtlpMetrics"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

export const serviceName = Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("shop"))

const millis = (name: string, fallback: number) =>
  Config.integer(name).pipe(Config.withDefault(fallback), Config.map(Duration.millis))

export const layer: Layer.Layer<never> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const endpoint = yield* Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT"))
    if (Option.isNone(endpoint)) return Layer.setTracerEnabled(false)
    const base = endpoint.value.replace(/\/+$/, "")
    const resource = { serviceName: yield* serviceName }
    // bounded: this runs after the shutdown, inside the orchestrator's grace period
    const shutdownTimeout = Duration.seconds(2)
    return Layer.mergeAll(
      OtlpTracer.layer({
        url: `${base}/v1/traces`,
        resource,
        exportInterval: yield* millis("OTEL_BSP_SCHEDULE_DELAY", 5000),
        shutdownTimeout
      }),
      OtlpMetrics.layer({
        url: `${base}/v1/metrics`,
        resource,
        exportInterval: yield* millis("OTEL_METRIC_EXPORT_INTERVAL", 60_000),
        shutdownTimeout
      })
    ).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))
  }).pipe(Effect.orDie)
)
