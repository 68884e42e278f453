/**
 * `DATABASE_URL=postgres://… node apps/bench/dist/peers/jobs-main.js`: the fulfillment worker's peers
 * once each against that server — graphile-worker, pg-boss, then pgbench's scripts A and B — each on
 * a fresh database of its own (dropped at the end), and a markdown table of their transitions/s.
 * Exits 0 when every peer ran and passed its check, 1 otherwise (the table is printed first).
 *
 * Environment (through Config): `PEERS_ORDERS` (default 20000), `PEERS_TIMEOUT` (a job queue's bound,
 * default 5 minutes), `PEERS_PGBENCH_SECONDS` (default 5), `PEERS_PGBENCH_CLIENTS` (default 8),
 * `PEERS_PGBENCH_BATCHES` (default 100,500), `PEERS_PGBENCH` (default /usr/bin/pgbench).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Os from "node:os"
import { BenchError } from "../BenchError.js"
import { int, markdown, ms, type Row } from "../Report.js"
import * as GraphileWorkerRun from "./GraphileWorkerRun.js"
import type * as PeerRun from "./PeerRun.js"
import * as PgBenchRun from "./PgBenchRun.js"
import * as PgBossRun from "./PgBossRun.js"

const config = Config.all({
  databaseUrl: Config.redacted("DATABASE_URL"),
  orders: Config.integer("PEERS_ORDERS").pipe(Config.withDefault(20_000)),
  timeout: Config.duration("PEERS_TIMEOUT").pipe(Config.withDefault(Duration.minutes(5))),
  seconds: Config.integer("PEERS_PGBENCH_SECONDS").pipe(Config.withDefault(5)),
  clients: Config.integer("PEERS_PGBENCH_CLIENTS").pipe(Config.withDefault(8)),
  batches: Config.array(Config.integer(), "PEERS_PGBENCH_BATCHES").pipe(Config.withDefault([100, 500])),
  pgbench: Config.string("PEERS_PGBENCH").pipe(Config.withDefault(PgBenchRun.defaultPath))
})

const row = (result: PeerRun.PeerResult, took?: Duration.Duration): Row => ({
  figure: `${result.peer}, transitions/s`,
  value: `${int(result.transitionsPerSecond)} (${int(result.transitions)} in ${
    ms(Duration.millis(result.seconds * 1000))
  }${took === undefined ? "" : `; whole run ${ms(took)}`})`,
  config: result.config
})

const program = Effect.gen(function*() {
  const options = yield* Effect.mapError(config, (cause) => new BenchError({ message: String(cause), cause }))
  const loadAtStart = Os.loadavg()[0]
  console.log(`job peers: ${Os.cpus().length} cores, Node ${process.version}, load average ${loadAtStart.toFixed(2)}`)
  const rows: Array<Row> = []
  const failures: Array<string> = []
  // one peer failing does not hide the others' figures
  const attempt = <A>(
    name: string,
    run: Effect.Effect<A, BenchError>,
    toRows: (a: A, took: Duration.Duration) => Array<Row>
  ) =>
    Effect.gen(function*() {
      console.log(`${name}…`)
      const start = Date.now()
      const outcome = yield* Effect.either(run)
      const took = Duration.millis(Date.now() - start)
      if (outcome._tag === "Right") {
        const added = toRows(outcome.right, took)
        for (const r of added) console.log(`${r.figure}: ${r.value}`)
        rows.push(...added)
      } else {
        console.error(`${name} failed after ${ms(took)}: ${outcome.left.message}`)
        failures.push(`${name}: ${outcome.left.message}`)
        rows.push({ figure: name, value: "FAILED", config: outcome.left.message.split("\n")[0] })
      }
    })

  const queues = { orders: options.orders, timeout: options.timeout }
  yield* attempt("graphile-worker", GraphileWorkerRun.run(options.databaseUrl, queues), (r, took) => [row(r, took)])
  yield* attempt("pg-boss", PgBossRun.run(options.databaseUrl, queues), (r, took) => [row(r, took)])
  if (yield* PgBenchRun.installed(options.pgbench)) {
    yield* attempt(
      "pgbench",
      PgBenchRun.run(options.databaseUrl, { ...options, pgbench: options.pgbench }),
      (results, took) => [
        ...results.map((r) => row(r)),
        { figure: "pgbench, whole run (seeds included)", value: ms(took), config: "" }
      ]
    )
  } else {
    console.error(`pgbench: not found at ${options.pgbench}, skipped`)
    rows.push({ figure: "pgbench", value: "skipped", config: `${options.pgbench} not found` })
  }
  rows.push({
    figure: "machine load average (1 min), start / end",
    value: `${loadAtStart.toFixed(2)} / ${Os.loadavg()[0].toFixed(2)}`,
    config: `${Os.cpus().length} cores; every peer shares them with PostgreSQL (and other work)`
  })
  console.log(`\n${markdown(rows)}\n`)
  if (failures.length > 0) return yield* new BenchError({ message: failures.join("\n") })
})

NodeRuntime.runMain(
  program.pipe(
    Effect.tapErrorCause((cause) =>
      Effect.sync(() => {
        const failure = Cause.failureOption(cause)
        console.error(`job peers failed: ${failure._tag === "Some" ? failure.value.message : Cause.pretty(cause)}`)
      })
    )
  ),
  { disableErrorReporting: true }
)
