/**
 * `node <script>` as a child of ours, scoped: nothing of our environment leaks in but `PATH` (a
 * caller that wants more passes it, e.g. `{ ...process.env }`), optionally pinned to cores with
 * `taskset -c`, and stopped when the scope closes if it still runs.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import type { Readable } from "node:stream"
import { HarnessError } from "./HarnessError.js"
import * as Leftovers from "./Leftovers.js"

export interface SpawnOptions {
  readonly script: string
  readonly args?: ReadonlyArray<string> | undefined
  /** On top of `PATH`; `undefined` values are left out. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  readonly cwd: string
  /** Run on these cores only (`taskset -c`, e.g. "0"); taskset execs node, so the pid is node's. */
  readonly cpus?: string | undefined
  /**
   * How the scope stops a child that still runs: SIGKILL at once (default), or SIGTERM and SIGKILL
   * only after this long.
   */
  readonly terminateOnRelease?: Duration.DurationInput | undefined
}

const alive = (child: ChildProcess.ChildProcess) => child.exitCode === null && child.signalCode === null

const closed = (child: ChildProcess.ChildProcess) =>
  new Promise<void>((resolve) => {
    if (!alive(child)) return resolve()
    child.once("exit", () => resolve())
  })

const stop = (child: ChildProcess.ChildProcess, grace: Duration.DurationInput | undefined) =>
  Effect.promise(async () => {
    if (!alive(child)) return
    if (grace !== undefined) {
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), Duration.toMillis(grace))
      await closed(child)
      clearTimeout(timer)
    } else {
      child.kill("SIGKILL")
      await closed(child)
    }
  })

export type Spawned = ChildProcess.ChildProcessByStdio<null, Readable, Readable>

export const spawn = (options: SpawnOptions): Effect.Effect<Spawned, HarnessError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      if (!Fs.existsSync(options.script)) {
        return new HarnessError({ message: `${options.script} does not exist: run \`pnpm build\` first` })
      }
      const args = [options.script, ...(options.args ?? [])]
      const [command, argv] = options.cpus === undefined
        ? [process.execPath, args]
        : ["taskset", ["-c", options.cpus, process.execPath, ...args]]
      const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" }
      for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value
      const child = ChildProcess.spawn(command, argv, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] })
      if (child.pid === undefined) {
        return Effect.promise(() => new Promise((resolve) => child.once("error", resolve))).pipe(
          Effect.flatMap((cause) =>
            new HarnessError({ message: `cannot spawn ${command} ${argv.join(" ")}: ${String(cause)}`, cause })
          )
        )
      }
      Leftovers.track(child)
      return Effect.succeed(child)
    }),
    (child) => stop(child, options.terminateOnRelease)
  )
