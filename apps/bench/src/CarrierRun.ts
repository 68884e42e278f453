/**
 * The carrier figures of the carrier-integration issue, against the standalone simulator
 * (`node apps/carrier-sim/dist/main.js`, jitter 0, no failures, tracking events an hour away so the
 * feed stays idle) and a shop of their own with `CARRIER_URL` pointing at it:
 *
 * 1. **Throughput** (`carrier/Throughput.ts`, `carrier/ThroughputReport.ts`). "With carrier latency L
 *    and concurrency N, bookings/s reach at least 90% of N/L." By Little's law, bookings/s = pending ÷ L,
 *    and (in flight ÷ bookings/s) − L is what a worker spends per booking outside the carrier call.
 * 2. **Shutdown** (`carrier/Shutdown.ts`, `carrier/ShutdownReport.ts`). "Shutdown with N bookings in
 *    flight takes no longer than the slowest in-flight booking plus 100 ms."
 *
 * Each run returns its figures as data; its report module renders them.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import type { BenchError } from "./BenchError.js"
import type { CarrierOptions, Outcome, ShutdownOutcome, ThroughputOutcome } from "./carrier/Options.js"
import * as Shutdown from "./carrier/Shutdown.js"
import * as ShutdownReport from "./carrier/ShutdownReport.js"
import * as Throughput from "./carrier/Throughput.js"
import * as ThroughputReport from "./carrier/ThroughputReport.js"

export * from "./carrier/Options.js"
export { withApplicationName } from "./carrier/Setup.js"
export { type LogLine, parseLogLine } from "./carrier/ShopLog.js"
export { bookingOutcomes } from "./carrier/ThroughputSampling.js"

export const throughput = (
  sql: PgClient.PgClient,
  options: CarrierOptions
): Effect.Effect<ThroughputOutcome, BenchError> =>
  Effect.tap(Throughput.run(sql, options), (data) => Effect.sync(() => console.log(ThroughputReport.summary(data))))
    .pipe(Effect.map(ThroughputReport.outcome))

export const shutdown = (sql: PgClient.PgClient, options: CarrierOptions): Effect.Effect<ShutdownOutcome, BenchError> =>
  Effect.tap(
    Shutdown.run(sql, options),
    (data) => Effect.sync(() => ShutdownReport.summary(data).forEach((line) => console.log(line)))
  ).pipe(Effect.map(ShutdownReport.outcome))

/** Both carrier runs, one after the other (each with its own simulator and shop). */
export const phase = (sql: PgClient.PgClient, options: CarrierOptions): Effect.Effect<Outcome, BenchError> =>
  Effect.gen(function*() {
    const first = yield* throughput(sql, options)
    const second = yield* shutdown(sql, options)
    return { rows: [...first.rows, ...second.rows], failures: [...first.failures, ...second.failures] }
  })
