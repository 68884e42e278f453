/**
 * One part of the comparison (HTTP, fulfillment, carrier, start and stop): what it is given, and what
 * it returns — its table lines, the correctness checks that failed (they decide the exit code; a
 * missed target does not) and notes for under the table.
 */
import type * as Duration from "effect/Duration"
import type * as Redacted from "effect/Redacted"
import type { Line } from "./Table.js"

export interface Setup {
  /** The server's admin URL: every stack creates fresh databases on it (`PeerRun.freshDatabase`). */
  readonly adminUrl: Redacted.Redacted
  /** The environment of the processes started (`DATABASE_URL` is added per database). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly readyTimeout: Duration.Duration
}

export interface Section {
  readonly lines: ReadonlyArray<Line>
  /** Failed correctness checks (non-2xx under load, an order not packed exactly once, an exit code). */
  readonly failures: ReadonlyArray<string>
  /** Markdown printed under the table (per-round figures, what was cut to stay in time). */
  readonly notes: ReadonlyArray<string>
}

export const empty: Section = { lines: [], failures: [], notes: [] }

export const concat = (sections: ReadonlyArray<Section>): Section => ({
  lines: sections.flatMap((s) => s.lines),
  failures: sections.flatMap((s) => s.failures),
  notes: sections.flatMap((s) => s.notes)
})
