/**
 * Effect 3 metrics as Prometheus text, and OTLP traces and metrics configured by the OpenTelemetry
 * environment variables.
 *
 * @since 0.1.0
 */
export * as Otlp from "./Otlp.js"
export * as OtlpReceiver from "./OtlpReceiver.js"
export * as Prometheus from "./Prometheus.js"
export * as RecordingTracer from "./RecordingTracer.js"
export * as Sampler from "./Sampler.js"
export * as Traced from "./Traced.js"
