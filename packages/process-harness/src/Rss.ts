/**
 * A process's resident set size.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"

/** VmRSS from `/proc/<pid>/status` (Linux), else `ps -o rss=` (macOS); bytes, `None` when gone. */
export const of = (pid: number): Effect.Effect<Option.Option<number>> =>
  Effect.sync(() => {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))
      return match ? Option.some(Number(match[1]) * 1024) : Option.none()
    } catch {
      try {
        const kb = Number(ChildProcess.execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }))
        return Number.isFinite(kb) && kb > 0 ? Option.some(kb * 1024) : Option.none()
      } catch {
        return Option.none()
      }
    }
  })
