/**
 * Every `effect/Metric` of the process in the Prometheus text format, for a `/metrics` endpoint. `@effect/opentelemetry` turns Effect's metric registry into
 * OpenTelemetry metric data and the OpenTelemetry Prometheus exporter's serializer writes it: both
 * maintained with the libraries they bridge, and read only when scraped, so a request pays nothing
 * for the exposition (it pays the metric updates, a few map lookups).
 *
 * Names follow OpenTelemetry's Prometheus mapping: dots become underscores, counters end in `_total`,
 * and metrics in seconds (by convention here, names ending in `.duration` or `.lag`) get the unit and
 * a `_seconds` suffix.
 *
 * @since 0.1.0
 */
import * as Metrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import type { MetricProducer } from "@opentelemetry/sdk-metrics"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { serviceName } from "./Otlp.js"

const inSeconds = /\.(duration|lag)$/

/** Effect metrics carry no unit; ours say it in their names. */
const withUnits = (producer: MetricProducer): MetricProducer => ({
  collect: (options) =>
    producer.collect(options).then((result) => {
      for (const scope of result.resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          const name = metric.descriptor.name
          const descriptor = inSeconds.test(name)
            ? { ...metric.descriptor, name: `${name}_seconds`, unit: "s" }
            : { ...metric.descriptor, unit: "" }
          ;(metric as { descriptor: typeof descriptor }).descriptor = descriptor
        }
      }
      return result
    })
})

/**
 * @since 0.1.0
 */
export class Prometheus extends Context.Tag("@shop/telemetry/Prometheus")<Prometheus, {
  /** The exposition of every metric now. */
  readonly render: Effect.Effect<string>
}>() {}

/**
 * `serviceName` is the `service_name` of the `target_info` series.
 *
 * @since 0.1.0
 */
export const layer = (serviceName: string): Layer.Layer<Prometheus> =>
  Layer.effect(
    Prometheus,
    Effect.gen(function*() {
      const producer = withUnits(yield* Metrics.makeProducer)
      // no `otel_scope_name` label on every series: there is one scope, Effect's registry
      const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
      return {
        render: Effect.promise(() => producer.collect()).pipe(
          Effect.map(({ resourceMetrics }) => serializer.serialize(resourceMetrics))
        )
      }
    })
  ).pipe(Layer.provide(Resource.layer({ serviceName })))

/**
 * {@link layer} named by `OTEL_SERVICE_NAME`, or `defaultServiceName`, as `Otlp.layerFromEnv` names its
 * resource.
 *
 * @since 0.1.0
 */
export const layerFromEnv = (defaultServiceName: string): Layer.Layer<Prometheus> =>
  Layer.unwrapEffect(Effect.map(Effect.orDie(serviceName(defaultServiceName)), layer))
