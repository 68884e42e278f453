/**
 * `node apps/bench/dist/compare.js [--rounds 3 --duration 8 --skip 4,5 --no-write …]` (`--help`);
 * `pnpm compare` builds first.
 *
 * The shop side by side with its peers, every figure measured in the same run on the same PostgreSQL
 * server (DATABASE_URL, or one embedded server of our own), each stack on fresh databases with the
 * shop's migrations. Sections run in the order that keeps the slowest peer (graphile-worker) last,
 * where its order count can adapt to the time left; the table lists them by row number. Prints one
 * markdown block (header line, table, notes), writes it to apps/bench/COMPARE.md and between the
 * README's compare markers, and exits 0 when every correctness check passed, 1 otherwise (a missed
 * target is a "misses" in the table, not a failure), 2 on a bad flag.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Os from "node:os"
import * as Path from "node:path"
import * as BenchDatabase from "./BenchDatabase.js"
import { BenchError } from "./BenchError.js"
import * as Cli from "./Cli.js"
import * as CarrierCompare from "./compare/CarrierCompare.js"
import * as CompareDatabase from "./compare/CompareDatabase.js"
import * as CompareOptions from "./compare/CompareOptions.js"
import * as FulfillmentCompare from "./compare/FulfillmentCompare.js"
import * as HttpCompare from "./compare/HttpCompare.js"
import * as ItemsCompare from "./compare/ItemsCompare.js"
import * as LifecycleCompare from "./compare/LifecycleCompare.js"
import * as Machine from "./compare/Machine.js"
import * as Pinning from "./compare/Pinning.js"
import * as Publish from "./compare/Publish.js"
import * as Section from "./compare/Section.js"
import * as Table from "./compare/Table.js"

/** The issue's bound on the whole run; graphile-worker's order count adapts to what is left of it. */
const budget = Duration.minutes(15)
/** graphile-worker should be done by then: the rest is cleanup and margin. */
const graphileDeadline = Duration.minutes(13.5)

// a section that fails leaves the others' figures, and fails the run
const section = (name: string, run: Effect.Effect<Section.Section, BenchError>) =>
  Effect.map(Effect.either(run), (outcome) =>
    Either.isRight(outcome) ? outcome.right : {
      lines: [Table.failed(name, outcome.left.message)],
      failures: [`${name}: ${outcome.left.message}`],
      notes: []
    })

type Wanted = (row: CompareOptions.RowNumber) => boolean

/** Rows 1–3 and 9, the servers pinned apart from the load generator while they run. */
const pinnedSections = (setup: Section.Setup, options: CompareOptions.CompareOptions, wanted: Wanted) =>
  Effect.scoped(Effect.gen(function*() {
    const pinning = yield* Pinning.pinned
    const http = wanted(1) || wanted(2) || wanted(3)
      ? yield* section(
        "HTTP",
        HttpCompare.run({
          ...options,
          ...setup,
          // RSS alone still needs load: both endpoints then
          endpoints: wanted(1) || wanted(2)
            ? [...(wanted(1) ? ["GET" as const] : []), ...(wanted(2) ? ["POST" as const] : [])]
            : ["GET", "POST"],
          show: { get: wanted(1), post: wanted(2), rss: wanted(3) },
          serverCpus: pinning.serverCpus
        })
      )
      : Section.empty
    const items = wanted(9)
      ? yield* section(
        "no database",
        ItemsCompare.run({ ...options, ...setup, serverCpus: pinning.serverCpus })
      )
      : Section.empty
    return { http, items, pinning }
  }))

interface BlockInput {
  readonly all: Section.Section
  readonly server: { readonly description: string }
  readonly startedAt: Date
  readonly loadAtStart: number
  readonly pinning: { readonly description: string }
  readonly wanted: Wanted
}

/** The markdown block: the header line, the table, the checks, the notes. */
const renderBlock = ({ all, loadAtStart, pinning, server, startedAt, wanted }: BlockInput): string => {
  const header = Machine.headerLine({
    startedAt,
    cores: Os.cpus().length,
    cpu: Machine.cpuModel(),
    ramBytes: Os.totalmem(),
    node: process.version,
    postgres: server.description,
    loadAtStart,
    loadAtEnd: Machine.loadAverage(),
    tookMs: Date.now() - startedAt.getTime()
  })
  const failures = all.failures.length === 0
    ? "Correctness checks: all passed (no non-2xx or connection error under load, every order packed exactly " +
      "once, every booking shipped once, every process exited 0)."
    : `Correctness checks FAILED:\n\n${all.failures.map((f) => `- ${f.split("\n")[0]}`).join("\n")}`
  const cores = wanted(1) || wanted(2) || wanted(3) || wanted(9) ? [`HTTP rows: ${pinning.description}.`] : []
  return [header, Table.render(all.lines), failures, ...cores, ...all.notes].join("\n\n")
}

const program = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const options = yield* Effect.mapError(
      CompareOptions.config,
      (cause) => new BenchError({ message: `invalid options: ${String(cause)}`, cause })
    )
    const startedAt = new Date()
    const loadAtStart = Machine.loadAverage()
    const wanted = (row: CompareOptions.RowNumber) => !options.skip.has(row)
    const workDir = yield* BenchDatabase.tempDir("shop-compare-")
    const server = yield* CompareDatabase.acquire(options.databaseUrl)
    console.log(
      `compare: ${server.description}; load average ${loadAtStart.toFixed(2)}; budget ${Duration.format(budget)}`
    )

    // the bench's shops: quiet, mail in the temp dir, workers parked (a run starts the ones it needs)
    const env = {
      ...process.env,
      // Effect's Config.logLevel knows "Warn", not "Warning": an unknown level makes the shop exit 1 silently
      LOG_LEVEL: "Warn",
      LOG_FORMAT: "pretty",
      MAIL_DIR: Path.join(workDir, "mail"),
      CARRIER_DISPATCH_INTERVAL: "1 hour",
      FULFILLMENT_INTERVAL: "1 hour"
    }
    const common = { adminUrl: server.adminUrl, cwd: workDir, readyTimeout: options.readyTimeout }

    // the HTTP rows with server and load generator on different cores; the rest unpinned
    const { http, items, pinning } = yield* pinnedSections({ ...common, env }, options, wanted)
    const lifecycle = wanted(7) || wanted(8)
      ? yield* section(
        "start and stop",
        LifecycleCompare.run({ ...common, env: process.env, starts: 3, show: { start: wanted(7), stop: wanted(8) } })
      )
      : Section.empty
    const carrier = wanted(6) ? yield* section("carrier", CarrierCompare.run({ ...common, env })) : Section.empty
    const fulfillment = wanted(4) || wanted(5)
      ? yield* FulfillmentCompare.run({
        ...common,
        env,
        orders: options.orders,
        deadline: startedAt.getTime() + Duration.toMillis(graphileDeadline),
        show: { peers: wanted(4), replicas: wanted(5) }
      })
      : Section.empty

    const all = Section.concat([http, items, fulfillment, carrier, lifecycle])
    const command = `node apps/bench/dist/compare.js${argv.length > 0 ? ` ${argv.join(" ")}` : ""}`
    const block = renderBlock({ all, server, startedAt, loadAtStart, pinning, wanted })
    console.log(`\n${block}\n\ncommand: ${command}`)
    if (options.write) {
      yield* Publish.write(block, command)
      console.log(`wrote ${Publish.compareMd} and the block in ${Publish.readmeMd}`)
    }
    if (all.failures.length > 0) {
      return yield* new BenchError({ message: `checks failed:\n${all.failures.join("\n")}` })
    }
  }).pipe(Effect.scoped)

Cli.main({ name: "compare", usage: CompareOptions.usage, parseFlags: CompareOptions.parseFlags, program })
