/**
 * The dbfaults drill's markdown report: setup, what each fault measured, requests by phase,
 * invariants ✓/✗ with their evidence, facts.
 */
import type { LogLine } from "@shop/process-harness"
import * as Os from "node:os"
import { percentile as pct } from "../../Figures.js"
import type * as TimedLoad from "../DbFaultsLoad.js"
import type * as Invariants from "../Invariants.js"
import { shopSettings } from "../Settings.js"
import { dbName, faultEnv, now } from "./Setup.js"
import type { FaultA, FaultB, FaultC } from "./Types.js"

export interface ReportInput {
  readonly command: string
  readonly startedAt: Date
  readonly clients: number
  readonly pgVersion: string
  readonly port: number
  readonly logDir: string
  readonly ok: boolean
  readonly faultA: FaultA
  readonly faultB: FaultB
  readonly faultC: FaultC
  readonly exchanges: ReadonlyArray<TimedLoad.Exchange>
  readonly fates: ReadonlyArray<string>
  readonly all: ReadonlyArray<Invariants.Invariant>
  readonly facts: Invariants.Facts
  readonly shopErrors: ReadonlyArray<LogLine.LogLine>
  readonly shutdown: Invariants.Shutdown
}

/** The title with the verdict, and what ran where. */
const header = ({ all, clients, command, logDir, ok, pgVersion, port, startedAt }: ReportInput, out: Array<string>) => {
  const failed = all.filter((i) => !i.ok)
  out.push(
    `# Drill \`dbfaults\`: ${failed.length === 0 ? "all invariants held ✓" : `${failed.length} invariant(s) broke ✗`}`
  )
  out.push("")
  out.push(`- command: \`${command}\``)
  out.push(`- started ${startedAt.toISOString()}, took ${Math.round((now() - startedAt.getTime()) / 1000)} s`)
  const cpus = Os.cpus()
  out.push(`- machine: ${cpus.length} cores, Node ${process.version}, load average ${Os.loadavg()[0].toFixed(2)}`)
  out.push(`- database: private embedded PostgreSQL ${pgVersion} on 127.0.0.1:${port}, database \`${dbName}\``)
  out.push(
    `- shop settings: ${Object.entries({ ...shopSettings, ...faultEnv }).map(([k, v]) => `${k}=${v}`).join(", ")}`
  )
  out.push(`- ${clients} client loops; shop log in ${ok ? "(removed)" : logDir}`)
  out.push("")
}

/** What each fault measured. */
const faultsSection = ({ faultA, faultB, faultC }: ReportInput, out: Array<string>) => {
  out.push("## Faults")
  out.push("")
  out.push("| fault | measured |")
  out.push("|---|---|")
  out.push(
    `| A: PostgreSQL immediate shutdown (SIGQUIT) under load | postmaster gone ${faultA.stoppedAfterMs} ms after the signal; ` +
      `/readyz 503 after ${faultA.to503Ms ?? "NEVER"} ms; down ${faultA.downMs} ms; restart on the same port took ` +
      `${faultA.pgStartMs} ms; /readyz 200 ${faultA.recoverMs ?? "NEVER"} ms after that; /readyz probes ${
        JSON.stringify(faultA.readyzDuring)
      }, slowest probe ${faultA.maxProbeMs} ms |`
  )
  out.push(
    `| B: pg_terminate_backend × ${faultB.kills.length} | ${
      faultB.kills.map((k) => `pid ${k.pid ?? "none"} (${k.state}) → /readyz 200 after ${k.readyAfterMs ?? "NEVER"} ms`)
        .join("; ")
    } |`
  )
  out.push(
    `| C: LOCK order_events EXCLUSIVE | held ${faultC.heldMs} ms; failed fulfillment ticks ${faultC.failuresBefore} → ${faultC.failuresAfter}; ` +
      `${faultC.paidAtLock} orders paid at release, first one advanced ${faultC.advanceAfterMs ?? "NEVER"} ms after |`
  )
  out.push("")
}

/** Requests by phase and outcome, with p50 / p99 / max; what became of each 500. */
const requestsSection = ({ exchanges, fates }: ReportInput, out: Array<string>) => {
  out.push("## Requests by phase")
  out.push("")
  const phases = [...new Set(exchanges.map((e) => e.phase))]
  const outcomes = [...new Set(exchanges.map((e) => e.outcome))].sort()
  out.push(`| phase | n | ${outcomes.join(" | ")} | p50 | p99 | max |`)
  out.push(`|---|---:|${outcomes.map(() => "---:").join("|")}|---:|---:|---:|`)
  for (const p of [...phases, "all"]) {
    const es = p === "all" ? exchanges : exchanges.filter((e) => e.phase === p)
    const sorted = es.map((e) => e.ms).sort((a, b) => a - b)
    out.push(
      `| ${p} | ${es.length} | ${outcomes.map((o) => es.filter((e) => e.outcome === o).length).join(" | ")} | ${
        pct(sorted, 50)
      } ms | ${pct(sorted, 99)} ms | ${sorted[sorted.length - 1] ?? "–"} ms |`
    )
  }
  if (fates.length > 0) {
    out.push(
      "",
      "Requests answered 500, and what the database says now:",
      "",
      ...fates.map((f) => `- ${f}`)
    )
  }
  const b503 = exchanges.find((e) => e.outcome === "503")
  if (b503) out.push("", `A 503 body: \`${b503.detail}\``)
  out.push("")
}

/** Every invariant ✓/✗ with the evidence of the broken ones, and the facts. */
const invariantsSection = ({ all, facts, shopErrors, shutdown }: ReportInput, out: Array<string>) => {
  const failed = all.filter((i) => !i.ok)
  out.push("## Invariants")
  out.push("")
  out.push("| | invariant | result |")
  out.push("|---|---|---|")
  for (const i of all) out.push(`| ${i.ok ? "✓" : "✗"} | ${i.name} | ${i.summary.replace(/\|/g, "\\|")} |`)
  for (const i of failed) {
    if (i.details.length === 0) continue
    out.push("", `### ✗ ${i.name}`, "", ...i.details.map((d) => `- ${d}`))
  }
  out.push("")
  out.push(
    `Facts: ${facts.orders} orders (${
      JSON.stringify(facts.ordersByStatus)
    }), ${facts.acknowledgedOrders} acknowledged; ` +
      `${facts.users} users; outbox ${JSON.stringify(facts.outboxByKind)}; ${facts.simShipments} shipments; ` +
      `shop ERROR lines: ${shopErrors.length}${
        shopErrors.length > 0
          ? ` (first: ${
            shopErrors.slice(0, 3).map((l) => `"${l.message}${l.cause ? ` ${l.cause.split("\n")[0]}` : ""}"`).join(
              "; "
            )
          })`
          : ""
      }; final SIGTERM → exit ${shutdown.code} after ${shutdown.tookMs} ms`
  )
}

export const render = (input: ReportInput): string => {
  const out: Array<string> = []
  for (const section of [header, faultsSection, requestsSection, invariantsSection]) section(input, out)
  return out.join("\n")
}
