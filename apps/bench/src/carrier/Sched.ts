/**
 * CPU and run-queue wait of sets of processes over a run (the schedstat of each of their threads).
 */
import * as Option from "effect/Option"
import * as CpuUsage from "../CpuUsage.js"

export interface Sched {
  readonly run: number
  readonly wait: number
  readonly slices: number
}

/** CPU and run-queue wait, in seconds, of a set of processes (summed over their threads). */
export const schedOf = (pids: ReadonlyArray<number>): ReadonlyMap<number, Sched> =>
  new Map(pids.flatMap((pid) => Option.toArray(Option.map(CpuUsage.schedSeconds(pid), (s) => [pid, s] as const))))

/** What `after` adds to `before`; a process missing from `before` started since (counted whole). */
export const schedDelta = (before: ReadonlyMap<number, Sched>, after: ReadonlyMap<number, Sched>): Sched => {
  let run = 0
  let wait = 0
  let slices = 0
  for (const [pid, end] of after) {
    const start = before.get(pid) ?? { run: 0, wait: 0, slices: 0 }
    run += end.run - start.run
    wait += end.wait - start.wait
    slices += end.slices - start.slices
  }
  return { run, wait, slices }
}
