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
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { serviceName } from "./Otlp.js"

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
  Layer.sync(Prometheus, () => {
    // The OpenTelemetry exporter stack (~2.5 MB of heap) loads on the first scrape, not at start-up:
    // V8 lets the old generation grow to about four times what is live after start-up before its
    // next full GC, so each MB live then is about four of peak RSS. The registry is Effect's, so
    // nothing recorded before the first scrape is lost. Only a built renderer is kept: a chunk that
    // failed to load is tried again on the next scrape (a module whose evaluation threw stays failed).
    let render: Effect.Effect<string> | undefined
    return {
      render: Effect.suspend(() =>
        render ?? Effect.promise(() => import("./internal/exposition.js")).pipe(
          Effect.flatMap((exposition) => exposition.make(serviceName)),
          Effect.tapDefect((cause) => Effect.logError("metrics: cannot load the Prometheus exposition", cause)),
          Effect.tap((made) => {
            render = made
          }),
          Effect.flatten
        )
      )
    }
  })

/**
 * {@link layer} named by `OTEL_SERVICE_NAME`, or `defaultServiceName`, as `Otlp.layerFromEnv` names its
 * resource.
 *
 * @since 0.1.0
 */
export const layerFromEnv = (defaultServiceName: string): Layer.Layer<Prometheus> =>
  Layer.unwrapEffect(Effect.map(Effect.orDie(serviceName(defaultServiceName)), layer))
