/**
 * The closing markdown table: one row per figure, with the command or configuration that produced it.
 */
import * as Duration from "effect/Duration"
import type { Exited } from "./ShopProcess.js"

export interface Row {
  readonly figure: string
  readonly value: string
  readonly config: string
}

export const ms = (d: Duration.Duration): string => {
  const millis = Duration.toMillis(d)
  return millis >= 10_000
    ? `${(millis / 1000).toFixed(1)} s`
    : millis >= 1000
    ? `${(millis / 1000).toFixed(2)} s`
    : `${Math.round(millis)} ms`
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`

export const int = (n: number): string => Math.round(n).toLocaleString("en-US")

/** A ratio as a whole percentage: `0.934` → `93%`. */
export const percent = (ratio: number): string => `${(100 * ratio).toFixed(0)}%`

/** Milliseconds as a number of them; `–` for none. */
export const millis = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? "–" : `${Math.round(n)} ms`

const escape = (cell: string) => cell.replaceAll("|", "\\|")

/** A markdown table with aligned columns; pipes inside cells are escaped. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const cells = rows.map((row) => row.map(escape))
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (cols: ReadonlyArray<string>) => `| ${cols.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...cells.map(line)].join("\n")
}

export const markdown = (rows: ReadonlyArray<Row>): string =>
  table(["figure", "value", "command/config"], rows.map((row) => [row.figure, row.value, row.config]))

/** SIGTERM → exit of an idle shop; its exit code is part of the figure. */
export const shutdownRow = (figure: string, exit: Exited & { readonly took: Duration.Duration }): Row => ({
  figure,
  value: `${ms(exit.took)}, exit code ${exit.code ?? `none (signal ${exit.signal})`}`,
  config: "kill -TERM <pid> when idle"
})
