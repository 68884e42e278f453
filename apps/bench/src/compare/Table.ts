/**
 * The side-by-side table: one line per figure, ours next to a peer's, the ratio, the target and the
 * verdict.
 */
import { table } from "../Report.js"
import * as Verdict from "./Verdict.js"

export interface Line {
  readonly figure: string
  readonly ours: string
  readonly peer: string
  readonly ratio: string
  readonly target: string
  /** "—" for a line shown for context only. */
  readonly verdict: Verdict.Verdict | "—"
}

export const header = ["figure", "ours", "peer", "ratio", "target", "verdict"] as const

export const render = (lines: ReadonlyArray<Line>): string =>
  table(header, lines.map((l) => [l.figure, l.ours, l.peer, l.ratio, l.target, l.verdict]))

const shown = (format: (n: number) => string, n: number | undefined) => (n === undefined ? "n/a" : format(n))

/** Our figure against one peer's: the ratio (ours ÷ peer) and the verdict of a ratio goal. */
export const versus = (options: {
  readonly figure: string
  readonly ours: number | undefined
  readonly peer: number | undefined
  readonly peerName: string
  readonly format: (n: number) => string
  readonly goal: Verdict.Goal | undefined
}): Line => ({
  figure: options.figure,
  ours: shown(options.format, options.ours),
  peer: `${options.peerName} ${shown(options.format, options.peer)}`,
  ratio: Verdict.times(Verdict.ratio(options.ours, options.peer)),
  target: options.goal === undefined ? "—" : Verdict.describe(options.goal, options.peerName),
  verdict: options.goal === undefined ? "—" : Verdict.judge(options.goal, options.ours, options.peer)
})

/** Our figure against an absolute bound; the peers' figures only for context. */
export const bounded = (options: {
  readonly figure: string
  readonly ours: number | undefined
  readonly context: string
  readonly format: (n: number) => string
  readonly goal: Verdict.Goal
}): Line => ({
  figure: options.figure,
  ours: shown(options.format, options.ours),
  peer: options.context,
  ratio: "—",
  target: Verdict.describe(options.goal, ""),
  verdict: Verdict.judge(options.goal, options.ours)
})

/** A measurement that did not complete: why, in place of the figures. */
export const failed = (figure: string, message: string): Line => ({
  figure,
  ours: `FAILED: ${message.split("\n")[0].slice(0, 200)}`,
  peer: "—",
  ratio: "—",
  target: "—",
  verdict: "n/a"
})
