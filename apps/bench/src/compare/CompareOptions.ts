/**
 * Options of `compare.js`: flags win over `COMPARE_*` variables, which win over the defaults (as in
 * BenchOptions, through one `ConfigProvider`).
 */
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { databaseUrl, duration, positive } from "../BenchOptions.js"
import * as Flags from "../Flags.js"

/** The table's rows, by number: what `--skip` names. */
export const rows = {
  1: "GET /v1/orders/{id} vs Fastify and bare node",
  2: "POST /v1/orders vs Fastify",
  3: "peak RSS under HTTP load",
  4: "fulfillment, one replica, vs graphile-worker, pg-boss and pgbench",
  5: "fulfillment, two replicas",
  6: "carrier bookings/s and SIGTERM with bookings in flight",
  7: "start → /readyz 200",
  8: "SIGTERM → exit, idle",
  9: "no database: GET /items/{id} and POST /items, CPU per request, vs Fastify, bare node and HttpApiBuilder.serve"
} as const
export type RowNumber = keyof typeof rows

export interface CompareOptions {
  /** Admin URL of an external server; `None`: one embedded server for every stack. */
  readonly databaseUrl: Option.Option<Redacted.Redacted>
  /** HTTP rounds, each stack once per round and endpoint. */
  readonly rounds: number
  readonly duration: Duration.Duration
  readonly warmup: Duration.Duration
  readonly connections: number
  /** Paid orders per fulfillment run (graphile-worker may get fewer to stay in the time budget). */
  readonly orders: number
  readonly skip: ReadonlySet<RowNumber>
  /** Rewrite `apps/bench/COMPARE.md` and the README's block (`--no-write`: print only). */
  readonly write: boolean
  readonly readyTimeout: Duration.Duration
}

const isRow = (n: number): n is RowNumber => Object.hasOwn(rows, n)

export const config: Config.Config<CompareOptions> = Config.all({
  databaseUrl,
  rounds: positive("COMPARE_ROUNDS", 3),
  duration: duration("COMPARE_DURATION", "8 seconds"),
  warmup: duration("COMPARE_WARMUP", "3 seconds"),
  connections: positive("COMPARE_CONNECTIONS", 50),
  orders: positive("COMPARE_ORDERS", 20_000),
  skip: Config.array(Config.integer(), "COMPARE_SKIP").pipe(
    Config.withDefault([]),
    Config.validate({ message: "must be row numbers from 1 to 9", validation: (list) => list.every(isRow) }),
    Config.map((list) => new Set(list.filter(isRow)) as ReadonlySet<RowNumber>)
  ),
  write: Config.boolean("COMPARE_NO_WRITE").pipe(Config.withDefault(false), Config.map((no) => !no)),
  readyTimeout: duration("COMPARE_READY_TIMEOUT", "90 seconds")
})

const valued = {
  rounds: "COMPARE_ROUNDS",
  duration: "COMPARE_DURATION",
  warmup: "COMPARE_WARMUP",
  connections: "COMPARE_CONNECTIONS",
  orders: "COMPARE_ORDERS",
  skip: "COMPARE_SKIP",
  "ready-timeout": "COMPARE_READY_TIMEOUT",
  "database-url": "DATABASE_URL"
} as const

export const parseFlags = (argv: ReadonlyArray<string>): Flags.Parsed =>
  Flags.parse(argv, valued, { "no-write": "COMPARE_NO_WRITE" })

export const usage = `Usage: node apps/bench/dist/compare.js [options]     (or: pnpm compare, which builds first)

Runs the shop next to its peers on one PostgreSQL server, each stack on fresh databases with the
shop's migrations, and prints one markdown table (figure | ours | peer | ratio | target | verdict);
writes it to apps/bench/COMPARE.md and between the compare markers of the root README.md.
Exit code 0 when every correctness check passed (a missed target is only a "misses"), 1 otherwise.

Options (flag, or environment variable):
  --rounds <n>          COMPARE_ROUNDS          HTTP rounds; the median per stack is reported (default 3)
  --duration <d>        COMPARE_DURATION        measured run per stack, endpoint and round (default 8 seconds)
  --warmup <d>          COMPARE_WARMUP          warm-up before each measured run (default 3 seconds)
  --connections <n>     COMPARE_CONNECTIONS     autocannon connections (default 50)
  --orders <n>          COMPARE_ORDERS          paid orders per fulfillment run (default 20000)
  --skip <rows>         COMPARE_SKIP            rows to leave out, e.g. 4,5 (numbers below)
  --no-write            COMPARE_NO_WRITE=true   print only; leave COMPARE.md and README.md alone
  --ready-timeout <d>   COMPARE_READY_TIMEOUT   bound on spawn → /readyz 200 (default 90 seconds)
  --database-url <url>  DATABASE_URL            admin URL of the server; unset or empty: one embedded
                                                PostgreSQL in a temp dir for every stack
Rows:
${Object.entries(rows).map(([n, what]) => `  ${n}  ${what}`).join("\n")}
Durations: "8 seconds", "500 millis", or a number of seconds.
`
