/**
 * A running child as the outside world sees it: its pid, its log, signals and how it exited.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { HarnessError } from "./HarnessError.js"
import type * as LogLine from "./LogLine.js"
import * as Output from "./Output.js"
import * as Rss from "./Rss.js"
import * as Spawn from "./Spawn.js"

export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Terminated extends Exited {
  readonly took: Duration.Duration
  /** `Date.now()` when SIGTERM was sent, and when the exit was seen. */
  readonly signalledAt: number
  readonly exitedAt: number
}

export interface Options extends Spawn.SpawnOptions, Omit<Output.Sinks, "logFile"> {
  /** Write every line to this file (stderr lines prefixed `[stderr] `); a function gets the pid. */
  readonly logFile?: string | ((pid: number) => string) | undefined
  /** Used in messages (and as the echo prefix); default the script's path. */
  readonly name?: string | undefined
  /** Which lines a string or RegExp `LogMatch` sees (default all); see `LogLine.matches`. */
  readonly own?: ((line: LogLine.LogLine) => boolean) | undefined
}

export interface Child {
  readonly name: string
  readonly pid: number
  /** `Date.now()` right after the spawn. */
  readonly spawnedAt: number
  /** Every JSON line so far (a live array). */
  readonly lines: ReadonlyArray<LogLine.LogLine>
  /** stderr and non-JSON stdout (a live array). */
  readonly raw: ReadonlyArray<string>
  /** Set once the process exited. */
  readonly exited: () => Exited | undefined
  /** `Date.now()` when Node saw the exit. */
  readonly exitedAt: () => number | undefined
  /** Resolves once the process exited and its output was read to the end. */
  readonly exit: Promise<Exited>
  /** The first signal sent by `kill` or `terminate`, and when; set before it goes out. */
  readonly signalled: () => { readonly signal: NodeJS.Signals; readonly at: number } | undefined
  /** Sends `signal` if the process still runs. */
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** The first line (seen so far or to come) that matches; fails if the output ends first or `bound` passes. */
  readonly waitForLog: (
    match: LogLine.LogMatch,
    bound?: Duration.DurationInput
  ) => Effect.Effect<LogLine.LogLine, HarnessError>
  /** The first raw line that `pattern` matches, likewise. */
  readonly waitForOutput: (
    pattern: RegExp,
    bound?: Duration.DurationInput
  ) => Effect.Effect<RegExpExecArray, HarnessError>
  /** `exit`, failing if it takes longer than `bound`. */
  readonly awaitExit: (bound?: Duration.DurationInput) => Effect.Effect<Exited, HarnessError>
  /** SIGTERM, then the exit within `timeout`: how it ended and how long it took. */
  readonly terminate: (timeout: Duration.DurationInput) => Effect.Effect<Terminated, HarnessError>
  /** Resident set size now, in bytes; `None` once the process is gone. */
  readonly rss: Effect.Effect<Option.Option<number>>
  /** The pid, the exit if any, and the recent output: for error messages. */
  readonly describe: () => string
}

/** After the exit, how long the output may stay open (a grandchild holding the pipes) before it is cut. */
const outputGrace = 1_000

/**
 * The exit as Node reports it (at once) and a promise that resolves once the output was read to the
 * end too (cut after {@link outputGrace} if a grandchild still holds the pipes).
 */
const watchExit = (child: Spawn.Spawned, output: Output.Output) => {
  const state: { exited?: Exited; exitedAt?: number } = {}
  const exit = new Promise<Exited>((resolve) => {
    child.once("exit", (code, signal) => {
      state.exitedAt = Date.now()
      const exited: Exited = { code, signal }
      state.exited = exited
      if (output.ended()) return resolve(exited)
      const timer = setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
      }, outputGrace)
      child.once("close", () => {
        clearTimeout(timer)
        resolve(exited)
      })
    })
  })
  return { exit, state: state as { readonly exited?: Exited; readonly exitedAt?: number } }
}

export const start = Effect.fn("ProcessHarness.start")(function*(
  options: Options
): Effect.fn.Return<Child, HarnessError, Scope.Scope> {
  const name = options.name ?? options.script
  const child = yield* Spawn.spawn(options)
  const spawnedAt = Date.now()
  const pid = child.pid!
  let signalled: { signal: NodeJS.Signals; at: number } | undefined
  const header = () => `${name} (pid ${pid})${state.exited ? ` exited ${JSON.stringify(state.exited)}` : ""}`
  const logFile = typeof options.logFile === "function" ? options.logFile(pid) : options.logFile
  const output = Output.read(child.stdout, child.stderr, { ...options, logFile }, header)

  const { exit, state } = watchExit(child, output)
  const kill = (signal: NodeJS.Signals) =>
    Effect.sync(() => {
      if (signalled === undefined) signalled = { signal, at: Date.now() }
      if (state.exited === undefined) child.kill(signal)
    })

  const awaitExit = (bound: Duration.DurationInput = "10 seconds") =>
    Effect.promise(() => exit).pipe(
      Effect.timeoutFail({
        duration: bound,
        onTimeout: () =>
          new HarnessError({ message: `still running after ${Duration.format(bound)}: ${output.describe()}` })
      })
    )

  const terminate = (timeout: Duration.DurationInput) =>
    Effect.gen(function*() {
      const signalledAt = Date.now()
      yield* kill("SIGTERM")
      const { code, signal } = yield* Effect.promise(() => exit).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new HarnessError({ message: `${name} did not exit within ${Duration.format(timeout)}` })
        })
      )
      const at = state.exitedAt!
      const terminated: Terminated = {
        code,
        signal,
        signalledAt,
        exitedAt: at,
        took: Duration.millis(at - signalledAt)
      }
      return terminated
    })

  const handle: Child = {
    name,
    pid,
    spawnedAt,
    lines: output.lines,
    raw: output.raw,
    exited: () => state.exited,
    exitedAt: () => state.exitedAt,
    exit,
    signalled: () => signalled,
    kill,
    waitForLog: (match, bound = "10 seconds") => output.waitForLog(match, options.own, bound),
    waitForOutput: (pattern, bound = "10 seconds") => output.waitForOutput(pattern, bound),
    awaitExit,
    terminate,
    rss: Effect.suspend(() => state.exited ? Effect.succeedNone : Rss.of(pid)),
    describe: () => output.describe()
  }
  return handle
})
