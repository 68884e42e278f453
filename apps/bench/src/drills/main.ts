/**
 * `node apps/bench/dist/drills/main.js <drill> [--rounds N] [--replicas N] [--clients N]`
 *
 * Prints the drill's markdown report on stdout (progress on stderr) and exits 0 when every
 * invariant held, 1 when one broke, 2 on bad usage or when the drill itself could not run.
 * See README.md next to this file.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { asBenchError } from "../BenchError.js"
import * as Cli from "../Cli.js"
import * as DrillOptions from "./DrillOptions.js"

const printed = (result: { readonly ok: boolean; readonly report: string }) =>
  Effect.sync(() => {
    console.log(result.report)
    return result.ok ? 0 : 1
  })

const program = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const args = yield* asBenchError(DrillOptions.config)
    const command = ["node apps/bench/dist/drills/main.js", ...argv].join(" ")
    if (args.drill === "dbfaults") {
      // on a private PostgreSQL of its own (no DATABASE_URL): loaded only for this drill
      const DbFaults = yield* Effect.promise(() => import("./DbFaults.js"))
      return yield* Effect.scoped(DbFaults.run(args.clients, command)).pipe(Effect.flatMap(printed))
    }
    const databaseUrl = yield* asBenchError(Config.option(Config.nonEmptyString("DATABASE_URL")))
    if (Option.isNone(databaseUrl)) {
      console.error(
        "drill: DATABASE_URL is not set. The drills need a PostgreSQL server they may create a database on\n" +
          "(drill_<random>, dropped at the end), e.g.:\n\n" +
          `  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node apps/bench/dist/drills/main.js ${args.drill}`
      )
      return 2
    }
    const Drill = yield* Effect.promise(() => import("./Drill.js"))
    return yield* Effect.scoped(Drill.run(args, databaseUrl.value, command)).pipe(Effect.flatMap(printed))
  })

Cli.main({
  name: "drill",
  usage: DrillOptions.usage,
  parseFlags: DrillOptions.parseFlags,
  program,
  failure: { exitCode: 2, prefix: "drill: could not run: " }
})
