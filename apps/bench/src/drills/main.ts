/**
 * `node apps/bench/dist/drills/main.js <drill> [--rounds N] [--replicas N] [--clients N]`
 *
 * Prints the drill's markdown report on stdout (progress on stderr) and exits 0 when every
 * invariant held, 1 when one broke, 2 on bad usage or when the drill itself could not run.
 * See README.md next to this file.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Args from "./Args.js"
import * as Drill from "./Drill.js"

// dbfaults runs on a private PostgreSQL of its own (no DATABASE_URL, its own options): see DbFaults.ts
if (process.argv[2] === "dbfaults") process.exit(await (await import("./DbFaults.js")).main(process.argv.slice(3)))

const parsed = Args.parse(process.argv.slice(2))
if (Either.isLeft(parsed)) {
  if (parsed.left instanceof Args.Help) {
    console.log(Args.usage)
    process.exit(0)
  }
  console.error(`drill: ${parsed.left}\n\n${Args.usage}`)
  process.exit(2)
}
const args = parsed.right

const databaseUrl = process.env.DATABASE_URL
if (databaseUrl === undefined || databaseUrl === "") {
  console.error(
    "drill: DATABASE_URL is not set. The drills need a PostgreSQL server they may create a database on\n" +
      "(drill_<random>, dropped at the end), e.g.:\n\n" +
      `  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node apps/bench/dist/drills/main.js ${args.drill}`
  )
  process.exit(2)
}

const command = [
  "node apps/bench/dist/drills/main.js",
  ...process.argv.slice(2)
].join(" ")

const program = Effect.scoped(Drill.run(args, databaseUrl, command)).pipe(
  Effect.onExit((exit) =>
    Effect.sync(() => {
      if (Exit.isSuccess(exit)) {
        console.log(exit.value.report)
        process.exitCode = exit.value.ok ? 0 : 1
      } else if (Cause.isInterruptedOnly(exit.cause)) {
        console.error("drill: interrupted")
        process.exitCode = 130
      } else {
        const failure = Cause.failureOption(exit.cause)
        console.error(
          `drill: could not run: ${failure._tag === "Some" ? failure.value.message : Cause.pretty(exit.cause)}`
        )
        process.exitCode = 2
      }
    })
  ),
  Effect.ignore
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  // the code set above, also after Ctrl-C (the default would be 0 for an interruption)
  teardown: (_exit, onExit) => onExit(typeof process.exitCode === "number" ? process.exitCode : 0)
})
