/**
 * How a figure is judged against its target: as a multiple of a peer's figure (at least, for
 * throughput; at most, for latency) or against an absolute bound. Pure: the table's arithmetic is
 * tested without running anything.
 */

export type Goal =
  /** ours ÷ peer ≥ factor: more is better. */
  | { readonly _tag: "AtLeastTimes"; readonly factor: number }
  /** ours ÷ peer ≤ factor: less is better. */
  | { readonly _tag: "AtMostTimes"; readonly factor: number }
  /** ours ≤ limit, whatever the peers do (they are shown for context). */
  | { readonly _tag: "AtMost"; readonly limit: number; readonly unit: string }

export type Verdict = "meets" | "misses" | "n/a"

export const atLeastTimes = (factor: number): Goal => ({ _tag: "AtLeastTimes", factor })
export const atMostTimes = (factor: number): Goal => ({ _tag: "AtMostTimes", factor })
export const atMost = (limit: number, unit: string): Goal => ({ _tag: "AtMost", limit, unit })

const usable = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n)

/** ours ÷ peer; `undefined` when either is missing or the peer's is not above 0. */
export const ratio = (ours: number | undefined, peer: number | undefined): number | undefined =>
  usable(ours) && usable(peer) && peer > 0 ? ours / peer : undefined

/** "n/a" when a figure the goal needs is missing (its measurement failed or was skipped). */
export const judge = (goal: Goal, ours: number | undefined, peer?: number): Verdict => {
  if (goal._tag === "AtMost") return !usable(ours) ? "n/a" : ours <= goal.limit ? "meets" : "misses"
  const r = ratio(ours, peer)
  if (r === undefined) return "n/a"
  return (goal._tag === "AtLeastTimes" ? r >= goal.factor : r <= goal.factor) ? "meets" : "misses"
}

/** Meets when any alternative meets ("≥ 1.5× one replica, or ≥ 0.5× the DB limit"). */
export const anyOf = (verdicts: ReadonlyArray<Verdict>): Verdict =>
  verdicts.includes("meets") ? "meets" : verdicts.includes("misses") ? "misses" : "n/a"

/** The target in words: `≥ 0.9× Fastify`, `≤ 1.5× Fastify`, `≤ 150 MB`. */
export const describe = (goal: Goal, peer: string): string =>
  goal._tag === "AtMost"
    ? `≤ ${goal.limit} ${goal.unit}`
    : `${goal._tag === "AtLeastTimes" ? "≥" : "≤"} ${goal.factor}× ${peer}`

/** `0.93×`, or `—` without a ratio; three decimals below 0.1, where two would say little. */
export const times = (r: number | undefined): string => r === undefined ? "—" : `${r.toFixed(r < 0.1 ? 3 : 2)}×`

export { median } from "../Figures.js"
