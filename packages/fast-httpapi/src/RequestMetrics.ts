/**
 * OpenTelemetry's `http.server.request.duration` histogram, recorded from {@link FastHttpApi.layer}'s
 * `onResponse` hook as an `effect/Metric` (so any exporter of Effect's metrics sees it): by method,
 * route template and status, never by a value a client chose. Unknown methods count as `_OTHER` and
 * unmatched URLs carry no `http.route`, as the conventions say, so hostile requests cannot grow the
 * number of series.
 *
 * @since 0.1.0
 */
import { LifecycleMetrics } from "@shop/lifecycle"
import * as Metric from "effect/Metric"
import type { ResponseInfo } from "./FastHttpApi.js"

/**
 * @since 0.1.0
 */
export const requestDuration = Metric.histogram(
  "http.server.request.duration",
  LifecycleMetrics.durationBoundaries,
  "Duration of HTTP server requests, in seconds"
)

const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"])

// the label array of each (method, route, status): Effect finds a series by the array's identity
const labelsOf = LifecycleMetrics.labelSets(["http.request.method", "http.route", "http.response.status_code"])

/**
 * Records one response: pass it as `onResponse`, or call it from your own hook.
 *
 * @since 0.1.0
 */
export const record = (info: ResponseInfo): void =>
  requestDuration.unsafeUpdate(
    info.durationMs / 1000,
    labelsOf(knownMethods.has(info.method) ? info.method : "_OTHER", info.route, String(info.status))
  )
