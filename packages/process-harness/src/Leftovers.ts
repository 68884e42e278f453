/**
 * Every child still running, so a test's `afterEach` can SIGKILL what a failed test left behind
 * (a scope normally does it already).
 */
import type * as ChildProcess from "node:child_process"

const running = new Set<ChildProcess.ChildProcess>()

export const track = (child: ChildProcess.ChildProcess) => {
  running.add(child)
  child.once("exit", () => running.delete(child))
}

/** SIGKILLs every child spawned by this process that still runs. */
export const killLeftovers = () => {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
}
