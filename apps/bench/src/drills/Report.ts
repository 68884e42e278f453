/**
 * The drill's markdown report: setup, rounds, requests by outcome, invariants ✓/✗, shutdown times.
 */
import { spread } from "../Figures.js"
import { millis as ms } from "../Report.js"
import type { DrillArgs } from "./DrillOptions.js"
import type { Facts, Invariant, Shutdown } from "./Invariants.js"
import { ops, type Records, type Verdict } from "./Load.js"

export interface ReportInput {
  readonly args: DrillArgs
  readonly command: string
  readonly startedAt: Date
  readonly durationMs: number
  readonly machine: string
  readonly database: string
  readonly settings: Record<string, string>
  readonly shutdowns: ReadonlyArray<Shutdown>
  /** Spawn → `/readyz` 200 of every shop start. */
  readonly startsMs: ReadonlyArray<number>
  readonly records: Records
  readonly invariants: ReadonlyArray<Invariant>
  readonly facts: Facts
  readonly shutdownTimeoutMs: number
  readonly logDir: string | undefined
}

const verdictColumns: ReadonlyArray<Verdict> = [
  "answered",
  "refused",
  "cut by SIGKILL",
  "broken",
  "timeout",
  "5xx",
  "unexpected status"
]

/** The title with the verdict, and what ran where. */
const header = (input: ReportInput, out: Array<string>) => {
  const { args } = input
  const failed = input.invariants.filter((i) => !i.ok)
  out.push(
    `# Drill \`${args.drill}\`: ${
      failed.length === 0 ? "all invariants held ✓" : `${failed.length} invariant(s) broke ✗`
    }`
  )
  out.push("")
  out.push(`- command: \`${input.command}\``)
  out.push(
    `- ${input.startedAt.toISOString()}, ${
      (input.durationMs / 1000).toFixed(1)
    } s; ${args.rounds} rounds, ${args.replicas} replica(s), ${args.clients} client loops`
  )
  out.push(`- machine: ${input.machine}`)
  out.push(`- database: ${input.database}`)
  out.push(`- shop: ${Object.entries(input.settings).map(([k, v]) => `${k}=${v}`).join(", ")}`)
  out.push("")
}

/** Each signal: rounds, exit codes, signal → exit; the starts. */
const roundsSection = (input: ReportInput, out: Array<string>) => {
  out.push("## Rounds")
  out.push("")
  out.push("| signal | rounds | exit codes | signal → exit (min / median / max) |")
  out.push("|---|---|---|---|")
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    const rounds = input.shutdowns.filter((s) => s.round !== "final" && s.signal === signal)
    if (rounds.length === 0) continue
    const codes = new Map<string, number>()
    for (const s of rounds) {
      const key = s.tookMs === undefined ? "no exit in time" : s.code !== null ? `${s.code}` : `${s.exitSignal}`
      codes.set(key, (codes.get(key) ?? 0) + 1)
    }
    const times = spread(rounds.flatMap((s) => (s.tookMs === undefined ? [] : [s.tookMs])))
    out.push(
      `| ${signal} | ${rounds.length} | ${[...codes].map(([c, n]) => `${c}: ${n}`).join(", ")} | ${ms(times.min)} / ${
        ms(times.median)
      } / ${ms(times.max)} |`
    )
  }
  const finals = input.shutdowns.filter((s) => s.round === "final")
  if (finals.length > 0) {
    out.push(
      `| SIGTERM (after the rounds) | ${finals.length} | ${finals.map((s) => s.code ?? s.exitSignal).join(", ")} | ${
        finals.map((s) => ms(s.tookMs)).join(", ")
      } |`
    )
  }
  const starts = spread(input.startsMs)
  out.push("")
  out.push(
    `Shop starts (spawn → \`/readyz\` 200): ${starts.n}, ${ms(starts.min)} / ${ms(starts.median)} / ${
      ms(starts.max)
    } (min / median / max).`
  )
  out.push("")
}

/** Requests by operation and outcome, and the retries. */
const requestsSection = (input: ReportInput, out: Array<string>) => {
  const { records } = input
  out.push("## Requests by outcome")
  out.push("")
  out.push(`| operation | ${verdictColumns.join(" | ")} | statuses |`)
  out.push(`|---|${verdictColumns.map(() => "---:").join("|")}|---|`)
  for (const op of ops) {
    const statuses = [...records.statuses].filter(([key]) => key.startsWith(`${op} `)).map(([key, n]) =>
      `${key.slice(op.length + 1)}: ${n}`
    ).join(", ")
    out.push(`| ${op} | ${verdictColumns.map((v) => records.get(op, v)).join(" | ")} | ${statuses} |`)
  }
  out.push(`| **all** | ${verdictColumns.map((v) => records.total(v)).join(" | ")} | |`)
  out.push("")
  out.push(
    `Retries (as a client would): ${records.orderRetries} order creations re-sent with the same key; ` +
      `${records.signupRetry409} sign-up retries answered 409 because the unanswered first attempt had committed.`
  )
  out.push("")
}

/** Every invariant ✓/✗ with its evidence, and the facts. */
const invariantsSection = (input: ReportInput, out: Array<string>) => {
  out.push("## Invariants")
  out.push("")
  out.push("| | invariant | result |")
  out.push("|---|---|---|")
  for (const invariant of input.invariants) {
    out.push(`| ${invariant.ok ? "✓" : "✗"} | ${invariant.name} | ${invariant.summary} |`)
  }
  out.push("")
  for (const invariant of input.invariants.filter((i) => i.details.length > 0)) {
    out.push(`${invariant.ok ? "✓" : "✗"} **${invariant.name}**:`)
    for (const line of invariant.details) out.push(`- ${line}`)
    out.push("")
  }
  const f = input.facts
  out.push(
    `Orders: ${f.orders} (${Object.entries(f.ordersByStatus).map(([s, n]) => `${s} ${n}`).join(", ")}); ` +
      `${f.acknowledgedOrders} acknowledged, ${f.unacknowledgedOrders} created without a 201 reaching the client. ` +
      `Users: ${f.users} (${f.acknowledgedSignups} acknowledged). Outbox: ${
        Object.entries(f.outboxByKind).map(([k, n]) => `${k} ${n}`).join(", ")
      }; ${f.outboxReclaimed} row(s) claimed more than once; ${f.mailFiles} .eml files. Carrier shipments: ${f.simShipments}.`
  )
  out.push("")
}

/** Shutdown times of the SIGTERM rounds next to SHUTDOWN_TIMEOUT. */
const shutdownSection = (input: ReportInput, out: Array<string>) => {
  const sigterm = input.shutdowns.filter((s) => s.round !== "final" && s.signal === "SIGTERM")
  if (sigterm.length > 0) {
    const times = spread(sigterm.flatMap((s) => (s.tookMs === undefined ? [] : [s.tookMs])))
    const own = spread(sigterm.flatMap((s) => {
      const match = /shutdown complete in (\d+) ms/.exec(s.shopSays ?? "")
      return match ? [Number(match[1])] : []
    }))
    out.push("## Shutdown time (SIGTERM rounds)")
    out.push("")
    out.push("| | n | min | median | max | SHUTDOWN_TIMEOUT |")
    out.push("|---|---:|---:|---:|---:|---:|")
    out.push(
      `| SIGTERM sent → process exited | ${times.n} | ${ms(times.min)} | ${ms(times.median)} | ${ms(times.max)} | ${
        ms(input.shutdownTimeoutMs)
      } |`
    )
    out.push(
      `| the shop's \`shutdown complete in …\` | ${own.n} | ${ms(own.min)} | ${ms(own.median)} | ${ms(own.max)} | |`
    )
    out.push("")
    const pct = times.max / input.shutdownTimeoutMs * 100
    out.push(`Slowest shutdown: ${pct.toFixed(0)} % of SHUTDOWN_TIMEOUT.`)
    out.push("")
  }
}

export const render = (input: ReportInput): string => {
  const out: Array<string> = []
  for (const section of [header, roundsSection, requestsSection, invariantsSection, shutdownSection]) {
    section(input, out)
  }
  if (input.logDir) {
    out.push(`Logs of every process kept in \`${input.logDir}\`.`)
    out.push("")
  }
  return out.join("\n")
}
