/**
 * The entry point of a bench command: flags (exit 2 and the usage on a bad one), `--help`, then the
 * program under `NodeRuntime.runMain` with the flags' `ConfigProvider`; a failure is printed as its
 * message (exit 1), the table having been printed before it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { BenchError } from "./BenchError.js"
import type * as Flags from "./Flags.js"

export const main = (options: {
  readonly name: string
  readonly usage: string
  readonly parseFlags: (argv: ReadonlyArray<string>) => Flags.Parsed
  readonly program: (argv: ReadonlyArray<string>) => Effect.Effect<void, BenchError>
}): void => {
  const argv = process.argv.slice(2)
  let flags: Flags.Parsed
  try {
    flags = options.parseFlags(argv)
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${options.usage}`)
    process.exit(2)
  }
  if (flags.help) return console.log(options.usage)
  const reportFailure = (cause: Cause.Cause<BenchError>) =>
    Effect.sync(() =>
      console.error(`${options.name} failed: ${
        Option.match(Cause.failureOption(cause), {
          onSome: (error) => error.message,
          onNone: () => Cause.pretty(cause)
        })
      }`)
    )
  NodeRuntime.runMain(
    options.program(argv).pipe(Effect.tapErrorCause(reportFailure), Effect.withConfigProvider(flags.provider)),
    { disableErrorReporting: true }
  )
}
