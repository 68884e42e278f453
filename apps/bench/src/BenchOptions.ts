/**
 * What the bench measures and how hard: command-line flags win over `BENCH_*` environment variables,
 * which win over the defaults. Both end up in one `ConfigProvider`, so every option is read through
 * `Config` exactly once.
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Flags from "./Flags.js"

export interface BenchOptions {
  /** Admin URL of an external server; `None` lets the shop start its embedded PostgreSQL. */
  readonly databaseUrl: Option.Option<Redacted.Redacted>
  readonly duration: Duration.Duration
  readonly warmup: Duration.Duration
  readonly connections: number
  /** Paid orders per fulfillment run. */
  readonly orders: number
  /** `delivered` orders inserted before the fulfillment runs: the history a long-lived shop has. */
  readonly history: number
  /** One fulfillment run per batch size. */
  readonly batches: ReadonlyArray<number>
  readonly interval: Duration.Duration
  /** Bounds one fulfillment run; a run that does not finish fails the bench. */
  readonly fulfillmentTimeout: Duration.Duration
  /** Bounds spawn → `/readyz` 200 (an embedded server runs `initdb` first). */
  readonly readyTimeout: Duration.Duration
  /** Which phases run (the first shop always starts: it creates the schema). */
  readonly phases: ReadonlySet<Phase>
  /** The simulator's booking latency in the throughput run (jitter 0). */
  readonly carrierLatency: Duration.Duration
  /** `CARRIER_CONCURRENCY` of the carrier shops. */
  readonly carrierConcurrency: number
  /** Packed orders booked in the throughput run. */
  readonly carrierOrders: number
  /** The simulator's latency in the shutdown run: long enough to send SIGTERM while all N wait. */
  readonly carrierShutdownLatency: Duration.Duration
  /** Bounds the throughput run; a run that does not finish fails the bench. */
  readonly carrierTimeout: Duration.Duration
}

export const phases = ["http", "fulfillment", "carrier"] as const
export type Phase = typeof phases[number]

/** `"10 seconds"`, `"500 millis"`, or a bare number of seconds (`10`). */
export const duration = (name: string, fallback: Duration.DurationInput) =>
  Config.duration(name).pipe(
    Config.orElse(() => Config.map(Config.number(name), Duration.seconds)),
    Config.withDefault(Duration.decode(fallback))
  )

export const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 })
  )

/** An admin URL; exported-but-empty means "unset", as it does for the shop. */
export const databaseUrl: Config.Config<Option.Option<Redacted.Redacted>> = Config.option(
  Config.redacted("DATABASE_URL")
).pipe(Config.map(Option.filter((url) => Redacted.value(url).trim() !== "")))

export const config: Config.Config<BenchOptions> = Config.all({
  databaseUrl,
  duration: duration("BENCH_DURATION", "10 seconds"),
  warmup: duration("BENCH_WARMUP", "3 seconds"),
  connections: positive("BENCH_CONNECTIONS", 50),
  orders: positive("BENCH_ORDERS", 20_000),
  history: Config.integer("BENCH_HISTORY").pipe(
    Config.withDefault(0),
    Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 })
  ),
  batches: Config.array(Config.integer(), "BENCH_BATCHES").pipe(
    Config.withDefault([100, 500]),
    Config.validate({ message: "must be positive integers", validation: (bs) => bs.every((b) => b > 0) })
  ),
  interval: duration("BENCH_INTERVAL", "10 millis"),
  fulfillmentTimeout: duration("BENCH_FULFILLMENT_TIMEOUT", "2 minutes"),
  readyTimeout: duration("BENCH_READY_TIMEOUT", "90 seconds"),
  phases: Config.array(Config.string(), "BENCH_PHASES").pipe(
    Config.withDefault([...phases]),
    Config.validate({
      message: `must be a comma-separated list of ${phases.join(", ")}`,
      validation: (list) => list.length > 0 && list.every((p) => (phases as ReadonlyArray<string>).includes(p.trim()))
    }),
    Config.map((list) => new Set(list.map((p) => p.trim() as Phase)) as ReadonlySet<Phase>)
  ),
  carrierLatency: duration("BENCH_CARRIER_LATENCY", "200 millis"),
  carrierConcurrency: positive("BENCH_CARRIER_CONCURRENCY", 32),
  carrierOrders: positive("BENCH_CARRIER_ORDERS", 3000),
  carrierShutdownLatency: duration("BENCH_CARRIER_SHUTDOWN_LATENCY", "1 second"),
  carrierTimeout: duration("BENCH_CARRIER_TIMEOUT", "3 minutes")
})

const flags = {
  duration: "BENCH_DURATION",
  warmup: "BENCH_WARMUP",
  connections: "BENCH_CONNECTIONS",
  orders: "BENCH_ORDERS",
  history: "BENCH_HISTORY",
  batches: "BENCH_BATCHES",
  interval: "BENCH_INTERVAL",
  "fulfillment-timeout": "BENCH_FULFILLMENT_TIMEOUT",
  "ready-timeout": "BENCH_READY_TIMEOUT",
  phases: "BENCH_PHASES",
  "carrier-latency": "BENCH_CARRIER_LATENCY",
  "carrier-concurrency": "BENCH_CARRIER_CONCURRENCY",
  "carrier-orders": "BENCH_CARRIER_ORDERS",
  "carrier-shutdown-latency": "BENCH_CARRIER_SHUTDOWN_LATENCY",
  "carrier-timeout": "BENCH_CARRIER_TIMEOUT",
  "database-url": "DATABASE_URL"
} as const

export const usage = `Usage: node apps/bench/dist/bench.js [options]

Starts the shop (node apps/shop/dist/main.js) on a fresh database, loads it with autocannon, times
fulfillment and carrier bookings (against node apps/carrier-sim/dist/main.js) and prints a markdown
table of the figures. Build first: pnpm build.

Options (flag, or environment variable):
  --duration <d>             BENCH_DURATION             measured run per endpoint (default 10 seconds)
  --warmup <d>               BENCH_WARMUP               warm-up before each measured run (default 3 seconds)
  --connections <n>          BENCH_CONNECTIONS          concurrent connections (default 50)
  --orders <n>               BENCH_ORDERS               paid orders per fulfillment run (default 20000)
  --history <n>              BENCH_HISTORY              delivered orders inserted before them (default 0)
  --batches <n,n>            BENCH_BATCHES              FULFILLMENT_BATCH of each run (default 100,500)
  --interval <d>             BENCH_INTERVAL             FULFILLMENT_INTERVAL of those runs (default 10 millis)
  --fulfillment-timeout <d>  BENCH_FULFILLMENT_TIMEOUT  bound on one fulfillment run (default 2 minutes)
  --ready-timeout <d>        BENCH_READY_TIMEOUT        bound on spawn to /readyz 200 (default 90 seconds)
  --phases <list>            BENCH_PHASES               which of http,fulfillment,carrier run (default all)
  --carrier-latency <d>      BENCH_CARRIER_LATENCY      simulator latency L, throughput run (default 200 millis)
  --carrier-concurrency <n>  BENCH_CARRIER_CONCURRENCY  CARRIER_CONCURRENCY N of the shop (default 32)
  --carrier-orders <n>       BENCH_CARRIER_ORDERS       packed orders booked in that run (default 3000)
  --carrier-shutdown-latency <d>
                             BENCH_CARRIER_SHUTDOWN_LATENCY  simulator latency, SIGTERM run (default 1 second)
  --carrier-timeout <d>      BENCH_CARRIER_TIMEOUT      bound on the throughput run (default 3 minutes)
  --database-url <url>       DATABASE_URL               external server: a database bench_<random> is created
                                                        on it and dropped afterwards; unset or empty: the
                                                        shop starts its embedded PostgreSQL in a temp dir
Durations: "10 seconds", "500 millis", or a number of seconds.
`

/** Parses `argv`; `help` when `--help` was given. Unknown flags throw (`node:util` parseArgs). */
export const parseFlags = (argv: ReadonlyArray<string>): Flags.Parsed => Flags.parse(argv, flags)
