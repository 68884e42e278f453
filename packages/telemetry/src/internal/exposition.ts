/**
 * The OpenTelemetry half of `Prometheus`: Effect's metric registry as OpenTelemetry metric data
 * (`@effect/opentelemetry`) written by the OpenTelemetry Prometheus exporter's serializer. Its own
 * module so that `Prometheus` loads it on the first scrape, not at start-up (see there).
 *
 * @internal
 */
import * as Metrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import type { MetricProducer } from "@opentelemetry/sdk-metrics"
import * as Effect from "effect/Effect"

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

/** Renders every metric of the process, as `serviceName`'s. */
export const make = (serviceName: string): Effect.Effect<Effect.Effect<string>> =>
  Effect.map(Effect.provide(Metrics.makeProducer, Resource.layer({ serviceName })), (made) => {
    const producer = withUnits(made)
    // no `otel_scope_name` label on every series: there is one scope, Effect's registry
    const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
    return Effect.promise(() => producer.collect()).pipe(
      Effect.map(({ resourceMetrics }) => serializer.serialize(resourceMetrics))
    )
  })
