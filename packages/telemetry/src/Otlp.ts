/**
 * Traces and pushed metrics over OTLP, configured as the OpenTelemetry SDKs are: by environment.
 *
 * `OTEL_EXPORTER_OTLP_ENDPOINT` set (e.g. `http://collector:4318`): spans go to `<endpoint>/v1/traces`
 * and every `effect/Metric` to `<endpoint>/v1/metrics`, as OTLP/HTTP JSON, by `@effect/opentelemetry`'s
 * exporters (no OpenTelemetry SDK in the process). Both flush once more when the layer is released:
 * give it to `Launch.runMain(…, { observability })` and that is after the shutdown, so the step
 * durations of the shutdown that just ended reach the collector although nothing scrapes a stopped
 * process. Unset: the tracer is disabled, and no span is created anywhere.
 *
 * Also read: `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER` (`always_on`, the default, or
 * `parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG`, the ratio; see {@link Sampler}),
 * `OTEL_BSP_SCHEDULE_DELAY` (span export interval, ms, default 5000) and `OTEL_METRIC_EXPORT_INTERVAL`
 * (ms, default 60000).
 *
 * @since 0.1.0
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
import * as Sampler from "./Sampler.js"

/**
 * `OTEL_SERVICE_NAME`, or `fallback`.
 *
 * @since 0.1.0
 */
export const serviceName = (fallback: string): Config.Config<string> =>
  Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault(fallback))

const millis = (name: string, fallback: number) =>
  Config.integer(name).pipe(Config.withDefault(fallback), Config.map(Duration.millis))

/** The sampler's ratio, or `undefined` for `always_on` (every span kept, whatever the caller said). */
const samplerRatio = Effect.gen(function*() {
  const sampler = yield* Config.literal("always_on", "parentbased_traceidratio")("OTEL_TRACES_SAMPLER").pipe(
    Config.withDefault("always_on")
  )
  if (sampler === "always_on") return undefined
  return yield* Config.number("OTEL_TRACES_SAMPLER_ARG").pipe(
    Config.withDefault(1),
    Config.validate({ message: "must be a ratio between 0 and 1", validation: (n) => n >= 0 && n <= 1 })
  )
})

/**
 * The exporters, as configured by the environment (see the module's description); `defaultServiceName`
 * when `OTEL_SERVICE_NAME` is unset.
 *
 * @since 0.1.0
 */
export const layerFromEnv = (defaultServiceName: string): Layer.Layer<never> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const endpoint = yield* Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT"))
      if (Option.isNone(endpoint)) return Layer.setTracerEnabled(false)
      const base = endpoint.value.replace(/\/+$/, "")
      const resource = { serviceName: yield* serviceName(defaultServiceName) }
      // bounded: it runs after the shutdown, inside the orchestrator's grace period
      const shutdownTimeout = Duration.seconds(2)
      const ratio = yield* samplerRatio
      const tracer = Layer.unwrapScoped(Effect.map(
        OtlpTracer.make({
          url: `${base}/v1/traces`,
          resource,
          exportInterval: yield* millis("OTEL_BSP_SCHEDULE_DELAY", 5000),
          shutdownTimeout
        }),
        (exporter) => Layer.setTracer(ratio === undefined ? exporter : Sampler.parentBasedRatio(ratio)(exporter))
      ))
      return Layer.mergeAll(
        Layer.setTracerEnabled(true),
        tracer,
        OtlpMetrics.layer({
          url: `${base}/v1/metrics`,
          resource,
          exportInterval: yield* millis("OTEL_METRIC_EXPORT_INTERVAL", 60_000),
          shutdownTimeout
        })
      ).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))
    }).pipe(Effect.orDie)
  )
