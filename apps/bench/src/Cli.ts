/**
 * The entry point of a bench command: flags (exit 2 and the usage on a bad one), `--help`, then the
 * program under `NodeRuntime.runMain` with the flags' `ConfigProvider`. The program's number is the
 * exit code (none: 0); a failure is printed as its message (exit 1 unless told), an interruption
 * exits 130.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { BenchError } from "./BenchError.js"
import type * as Flags from "./Flags.js"

export interface Failure {
  readonly exitCode: number
  /** Printed before the failure's message. */
  readonly prefix: string
}

export const main = (options: {
  readonly name: string
  readonly usage: string
  readonly parseFlags: (argv: ReadonlyArray<string>) => Flags.Parsed
  readonly program: (argv: ReadonlyArray<string>) => Effect.Effect<number | void, BenchError>
  /** Default: exit 1, `<name> failed: `. */
  readonly failure?: Failure | undefined
}): void => {
  const argv = process.argv.slice(2)
  const failure = options.failure ?? { exitCode: 1, prefix: `${options.name} failed: ` }
  let flags: Flags.Parsed
  try {
    flags = options.parseFlags(argv)
  } catch (error) {
    console.error(`${options.name}: ${error instanceof Error ? error.message : String(error)}\n\n${options.usage}`)
    process.exit(2)
  }
  if (flags.help) return console.log(options.usage)
  const exitCode = (exit: Exit.Exit<number | void, BenchError>) => {
    if (Exit.isSuccess(exit)) return exit.value ?? 0
    if (Cause.isInterruptedOnly(exit.cause)) {
      console.error(`${options.name}: interrupted`)
      return 130
    }
    const message = Option.match(Cause.failureOption(exit.cause), {
      onSome: (error) => error.message,
      onNone: () => Cause.pretty(exit.cause)
    })
    console.error(`${failure.prefix}${message}`)
    return failure.exitCode
  }
  NodeRuntime.runMain(options.program(argv).pipe(Effect.withConfigProvider(flags.provider)), {
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(exitCode(exit as Exit.Exit<number | void, BenchError>))
  })
}
