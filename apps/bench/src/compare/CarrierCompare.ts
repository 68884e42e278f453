/**
 * Row 6: carrier bookings/s at latency L and concurrency N against the ideal N/L, and SIGTERM → exit
 * with N bookings in flight against the slowest of them + 100 ms — CarrierRun's two runs, each with a
 * standalone simulator and a shop of its own, on a fresh database.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { BenchError } from "../BenchError.js"
import * as CarrierRun from "../CarrierRun.js"
import * as PeerRun from "../peers/PeerRun.js"
import { int } from "../Report.js"
import * as Section from "./Section.js"
import * as Table from "./Table.js"
import * as Verdict from "./Verdict.js"

/** The shops' environment gets `DATABASE_URL` and the carrier settings from CarrierRun. */
export type CarrierOptions = Section.Setup

export const defaults = {
  carrierLatency: Duration.millis(200),
  carrierConcurrency: 32,
  carrierOrders: 3000,
  carrierShutdownLatency: Duration.seconds(1),
  carrierTimeout: Duration.minutes(3)
} as const

export const run = (options: CarrierOptions): Effect.Effect<Section.Section, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const db = yield* PeerRun.freshDatabase(options.adminUrl, "carrier")
    const settings: CarrierRun.CarrierOptions = { ...defaults, ...options, url: db.url }
    const n = settings.carrierConcurrency
    const throughput = yield* CarrierRun.throughput(db.sql, settings)
    const shutdown = yield* CarrierRun.shutdown(db.sql, settings)
    const latency = Duration.toMillis(settings.carrierLatency)
    const lines: Array<Table.Line> = [
      Table.versus({
        figure: `carrier bookings/s, L = ${latency} ms, N = ${n} (${int(settings.carrierOrders)} packed orders, ` +
          `standalone simulator)`,
        ours: throughput.perSecond,
        peer: throughput.ideal,
        peerName: "N/L",
        format: (x) => `${x.toFixed(1)}/s`,
        goal: Verdict.atLeastTimes(CarrierRun.throughputTarget)
      }),
      Table.versus({
        figure: `SIGTERM → exit with N = ${n} bookings in flight (L = ${
          Duration.toMillis(settings.carrierShutdownLatency)
        } ms) vs the slowest of them + ${CarrierRun.shutdownAllowanceMs} ms`,
        ours: shutdown.tookMs,
        peer: shutdown.allowedMs,
        peerName: `slowest + ${CarrierRun.shutdownAllowanceMs} ms`,
        format: (x) => `${int(x)} ms`,
        goal: Verdict.atMostTimes(1)
      })
    ]
    return { lines, failures: [...throughput.failures, ...shutdown.failures], notes: [] }
  }))
