/**
 * What the carrier runs are given, what they return, and the targets.
 */
import type * as Duration from "effect/Duration"
import type * as Redacted from "effect/Redacted"
import type { Row } from "../Report.js"

export interface CarrierOptions {
  readonly carrierLatency: Duration.Duration
  readonly carrierConcurrency: number
  readonly carrierOrders: number
  readonly carrierShutdownLatency: Duration.Duration
  readonly carrierTimeout: Duration.Duration
  readonly readyTimeout: Duration.Duration
  /** The shops' environment (without `DATABASE_URL`). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly url: Redacted.Redacted
  readonly cwd: string
}

export interface Outcome {
  readonly rows: ReadonlyArray<Row>
  readonly failures: ReadonlyArray<string>
}

export interface ThroughputOutcome extends Outcome {
  /** Bookings/s from the seed's commit to the last order shipped, and the ideal N/L. */
  readonly perSecond: number
  readonly ideal: number
}

export interface ShutdownOutcome extends Outcome {
  /** SIGTERM → exit, and the slowest in-flight booking + {@link shutdownAllowanceMs}: the target. */
  readonly tookMs: number
  readonly allowedMs: number
}

/** The target of the issue: bookings/s ≥ 90% of N/L. */
export const throughputTarget = 0.9
/** The target of the issue: SIGTERM → exit ≤ the slowest in-flight booking + 100 ms. */
export const shutdownAllowanceMs = 100
