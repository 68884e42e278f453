/**
 * The throughput run in words: the progress line and the rows of the table (Little's law over the
 * worker: time per booking = in flight ÷ bookings/s; minus L is what a worker spends outside the call).
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import { int, ms, percent as pct, type Row } from "../Report.js"
import { type ThroughputOutcome, throughputTarget } from "./Options.js"
import type { Sched } from "./Sched.js"
import type { Cpu, ThroughputData } from "./Throughput.js"

const oneDecimal = (n: number) => n.toFixed(1)

const cpuText = (cpu: Cpu) => {
  const share = (seconds: number) => `${((100 * seconds) / cpu.wall).toFixed(0)}%`
  const both = (what: string, sched: Sched) =>
    `${what} ${share(sched.run)} (+ ${share(sched.wait)} waiting for a CPU, ${
      sched.slices > 0 ? ((1000 * sched.wait) / sched.slices).toFixed(1) : "?"
    } ms per wake-up)`
  return `${both("shop", cpu.shop)}, ${both("postgres", cpu.postgres)}, ${both("carrier-sim", cpu.sim)}, ` +
    Option.match(cpu.machine, {
      onNone: () => "whole machine n/a",
      onSome: (m) => `whole machine ${m.busy.toFixed(0)}% of ${100 * cpu.cores}% (steal ${m.steal.toFixed(0)}%)`
    })
}

const topWaits = (data: ThroughputData) =>
  Array.from(
    data.steady.waitCounts,
    ([event, c]) => `${event} ${oneDecimal(c / Math.max(data.steady.samples, 1))}`
  )
    .sort((a, b) => Number(b.split(" ")[1]) - Number(a.split(" ")[1]))
    .slice(0, 3)
    .join(", ")

/** The line printed once the run is done. */
export const summary = (data: ThroughputData): string => {
  const s = data.steady
  const busy = s.active + s.inTransaction
  return `carrier throughput: ${int(data.count)} bookings in ${ms(data.elapsed)} = ${oneDecimal(data.perSecond)}/s, ` +
    `${pct(data.perSecond / data.ideal)} of N/L = ${int(data.ideal)}/s; steady ${oneDecimal(s.rate)}/s; ` +
    `mean pending at the carrier ${oneDecimal(s.pending)}, in flight ${oneDecimal(s.inFlight)}, queued ` +
    `${oneDecimal(s.queued)}; DB sessions busy ${oneDecimal(busy)} of ${data.poolSize} (active ${
      oneDecimal(s.active)
    }, idle in transaction ${oneDecimal(s.inTransaction)}); CPU ${cpuText(data.cpu)}`
}

const poolRow = (data: ThroughputData): Row => {
  const s = data.steady
  const latencyMs = Duration.toMillis(data.latency)
  const perBookingMs = s.rate > 0 ? (1000 * s.inFlight) / s.rate : 0
  // the same law per stage: at the carrier (pending), holding a PostgreSQL session (busy), the rest
  const atCarrierMs = s.rate > 0 ? (1000 * s.pending) / s.rate : 0
  const holdingMs = (1000 * (s.active + s.inTransaction)) / s.rate
  return {
    figure: "carrier pool during the steady state (means)",
    value: `pending at the carrier ${oneDecimal(s.pending)} of ${data.n}; in flight ${oneDecimal(s.inFlight)}, queued ${
      oneDecimal(s.queued)
    }; per booking ${oneDecimal(perBookingMs)} ms = L + ${oneDecimal(perBookingMs - latencyMs)} ms: at the carrier ${
      oneDecimal(atCarrierMs)
    } ms (L + ${oneDecimal(atCarrierMs - latencyMs)}: the simulator's own delay), holding a PostgreSQL session ${
      oneDecimal(holdingMs)
    } ms, the rest ${
      oneDecimal(perBookingMs - atCarrierMs - holdingMs)
    } ms (waiting for a pooled connection, HTTP in both processes, event-loop queueing)`,
    config: "simulator /v1/stats requests.pending and shop /metrics pool gauges every 200 ms; per booking = " +
      "in flight ÷ bookings/s (Little's law)"
  }
}

const sessionsRow = (data: ThroughputData): Row => {
  const s = data.steady
  const busy = s.active + s.inTransaction
  const waits = topWaits(data)
  return {
    figure: "shop's PostgreSQL sessions during the steady state",
    value: `busy ${oneDecimal(busy)} of DATABASE_POOL_SIZE=${data.poolSize} (all busy in ${
      pct(s.saturated)
    } of samples): running a statement ${oneDecimal(s.active)} (waiting ${oneDecimal(s.ioWait)} on I/O or an LWLock: ${
      waits === "" ? "none" : waits
    }), idle in transaction ${oneDecimal(s.inTransaction)}; up to ${s.sessionsMax} open; ${
      oneDecimal((1000 * busy) / s.rate)
    } ms of a connection per booking; ${
      Option.match(s.perBookingTx, {
        onNone: () => "transactions per booking n/a",
        onSome: (tx) =>
          `${tx.toFixed(1)} transactions per booking (the lease renewal, the persist, and the dispatcher's share)`
      })
    }`,
    config: "pg_stat_activity of the shop's application_name every 200 ms (state, wait_event_type)"
  }
}

const checksRow = ({ checks }: ThroughputData): Row => ({
  figure: "carrier throughput checks",
  value: `${int(checks.stats.shipments)} shipments, ${
    checks.onePerKey.length === 0 ? "one per key" : "NOT one per key"
  }; carrier requests: ${checks.stats.requests.booked} booked, ${checks.stats.requests.replayed} replayed, ${checks.stats.requests.failed} failed; ${checks.db.retried} order(s) with more than one attempt; shop outcomes ${
    JSON.stringify(checks.outcomes)
  }`,
  config: "simulator /v1/stats bookingsByKey, orders and order_events in SQL, shop_carrier_bookings_total"
})

export const outcome = (data: ThroughputData): ThroughputOutcome => {
  const { count, ideal, latency, n, perSecond } = data
  const ratio = perSecond / ideal
  const verdict = ratio >= throughputTarget ? "meets" : "misses"
  const config = `N=CARRIER_CONCURRENCY=${n}, L=${ms(latency)} (simulator jitter 0, failures 0), ` +
    `${int(count)} packed orders committed at once, CARRIER_DISPATCH_INTERVAL=20 millis, ` +
    `DATABASE_POOL_SIZE=${data.poolSize}`
  const stopped = data.checks.stopped
  const rows: Array<Row> = [
    {
      figure: `carrier bookings/s, N=${n}, L=${ms(latency)}`,
      value: `${oneDecimal(perSecond)}/s = ${pct(ratio)} of N/L = ${int(ideal)}/s (${int(count)} in ${
        ms(data.elapsed)
      }); ${verdict} the ≥ ${pct(throughputTarget)} target`,
      config: `${config}; clock from the seed's commit to the last order shipped (SQL, every 25 ms)`
    },
    {
      figure: "carrier bookings/s, steady state (10% → 90% shipped)",
      value: Option.match(data.steady.steady, {
        onNone: () => "n/a",
        onSome: (s) => `${oneDecimal(s.perSecond)}/s = ${pct(s.perSecond / ideal)} of N/L`
      }),
      config: "without the ramp-up (the first L) and the last partial round"
    },
    poolRow(data),
    sessionsRow(data),
    {
      figure: "CPU during the carrier throughput run",
      value: `${cpuText(data.cpu)}; shop ${((1000 * data.cpu.shop.run) / count).toFixed(2)} ms CPU per booking; ` +
        `the bench's own 10 ms timer late by p50 ${data.cpu.timerLateP50.toFixed(1)} ms, p99 ${
          data.cpu.timerLateP99.toFixed(1)
        } ms`,
      config: "100% = one core; /proc/<pid>/task/*/schedstat (on a CPU, runnable but waiting); " +
        "postgres = the shop's backends"
    },
    checksRow(data),
    {
      figure: "SIGTERM → exit, shop-carrier (idle)",
      value: `${ms(stopped.took)}, exit code ${stopped.code ?? `none (signal ${stopped.signal})`}`,
      config: "kill -TERM <pid> after the run"
    }
  ]
  return { rows, failures: data.failures, perSecond, ideal }
}
