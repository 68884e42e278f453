/**
 * A child's output, line by line: `Logger.json` lines parsed, everything else (stderr, non-JSON
 * stdout) kept raw. Waiters are re-checked on every line and when the output ends.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Readline from "node:readline"
import type { Readable } from "node:stream"
import { HarnessError } from "./HarnessError.js"
import * as LogLine from "./LogLine.js"

/** Raw lines kept (the oldest are dropped past this); JSON lines are all kept. */
const rawLimit = 20_000

export interface Sinks {
  /** Every line with `Date.now()` at its arrival (stderr included). */
  readonly onLine?: ((line: string, receivedAt: number) => void) | undefined
  /** Copy every line to our stderr, prefixed `[prefix] `. */
  readonly echo?: string | undefined
  /** Write every line to this file (stderr lines prefixed `[stderr] `). */
  readonly logFile?: string | undefined
}

export interface Output {
  /** Every JSON line so far, a live array. */
  readonly lines: ReadonlyArray<LogLine.LogLine>
  /** stderr and non-JSON stdout, ANSI colours removed, a live array. */
  readonly raw: ReadonlyArray<string>
  /** True once both streams ended. */
  readonly ended: () => boolean
  /** The first value `find` returns (now or on a later line); fails with `onEnd` once the output ended. */
  readonly waitFor: <A>(
    find: () => A | undefined,
    what: string,
    bound: Duration.DurationInput
  ) => Effect.Effect<A, HarnessError>
  /** The first line (now or later) that matches; a string or RegExp sees the lines `own` accepts. */
  readonly waitForLog: (
    match: LogLine.LogMatch,
    own: ((line: LogLine.LogLine) => boolean) | undefined,
    bound: Duration.DurationInput
  ) => Effect.Effect<LogLine.LogLine, HarnessError>
  /** The first raw line `pattern` matches (now or later), as its match. */
  readonly waitForOutput: (
    pattern: RegExp,
    bound: Duration.DurationInput
  ) => Effect.Effect<RegExpExecArray, HarnessError>
  /** The recent output, for error messages. */
  readonly describe: (last?: number) => string
}

const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "")

export const read = (stdout: Readable, stderr: Readable, sinks: Sinks, header: () => string): Output => {
  const lines: Array<LogLine.LogLine> = []
  const raw: Array<string> = []
  const listeners = new Set<() => void>()
  const notify = () => listeners.forEach((listener) => listener())
  const log = sinks.logFile === undefined ? undefined : Fs.createWriteStream(sinks.logFile)
  let open = 2

  const onText = (text: string, fromStderr: boolean) => {
    sinks.onLine?.(text, Date.now())
    log?.write(fromStderr ? `[stderr] ${text}\n` : `${text}\n`)
    if (sinks.echo !== undefined) process.stderr.write(`[${sinks.echo}] ${text}\n`)
    if (text.trim() === "") return
    const parsed = fromStderr ? undefined : LogLine.parse(text)
    if (parsed) lines.push(parsed)
    else if (raw.push(stripAnsi(text)) > rawLimit) raw.splice(0, raw.length - rawLimit)
    notify()
  }
  for (const [stream, fromStderr] of [[stdout, false], [stderr, true]] as const) {
    Readline.createInterface({ input: stream }).on("line", (text) => onText(text, fromStderr))
    stream.once("close", () => {
      if (--open === 0) log?.end()
      notify()
    })
  }

  const describe = (last = 200) =>
    `${header()}; last output:\n` + lines.slice(-last).map((line) => `  ${LogLine.format(line)}`).join("\n") +
    (raw.length > 0 ? `\n  other output:\n  ${raw.slice(-last).join("\n  ")}` : "")

  const waitFor = <A>(find: () => A | undefined, what: string, bound: Duration.DurationInput) =>
    Effect.async<A, HarnessError>((resume) => {
      const check = () => {
        const found = find()
        if (found !== undefined) resume(Effect.succeed(found))
        else if (open === 0) resume(Effect.fail(new HarnessError({ message: `${what} before the end: ${describe()}` })))
        else return false
        listeners.delete(check)
        return true
      }
      if (!check()) listeners.add(check)
      return Effect.sync(() => listeners.delete(check))
    }).pipe(
      Effect.timeoutFail({
        duration: bound,
        onTimeout: () => new HarnessError({ message: `${what} within ${Duration.format(bound)}: ${describe()}` })
      })
    )

  const firstRaw = (pattern: RegExp) => {
    for (const line of raw) {
      const found = pattern.exec(line)
      if (found) return found
    }
    return undefined
  }
  return {
    lines,
    raw,
    ended: () => open === 0,
    waitFor,
    waitForLog: (match, own, bound) =>
      waitFor(() => lines.find((line) => LogLine.matches(match, line, own)), `no log line ${match}`, bound),
    waitForOutput: (pattern, bound) => waitFor(() => firstRaw(pattern), `no output ${pattern}`, bound),
    describe
  }
}
