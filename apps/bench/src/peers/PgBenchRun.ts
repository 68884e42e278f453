/**
 * PostgreSQL's own limit for the fulfillment worker's statements, with `pgbench` (spawned:
 * `-n -c <clients> -j 2 -T <seconds> -M extended -f <script>`) on a fresh database with the shop's
 * schema, the orders seeded by `FulfillmentRun.seedPaid`:
 *
 * - **A, one transition per transaction**: the shared transition CTE (TransitionSql) on one order.
 *   Every transaction must make a real transition, and the event's unique key allows each step once
 *   per order, so orders are not drawn with `random()` (repeats would match nothing): the j-th
 *   transaction overall (`j = k·clients + client_id`, `k` the client's own counter) takes order
 *   `first + permute(j mod n, n)` — every seeded order once, in a random order — picking it on the
 *   first pass over them (j < n) and packing it on the second. With n a multiple of the clients, the
 *   pack of an order is made by the client that picked it, n/clients transactions later.
 * - **B, one tick per transaction**: the shop's tick exactly as Fulfillment.ts runs it (`BEGIN`,
 *   `SET LOCAL statement_timeout`, the tick CTE with the batch as a bind parameter, `COMMIT`), over
 *   enough paid orders that every tick finds a full batch.
 *
 * `-M extended`: bind parameters and an unnamed statement per execution, as node-postgres sends the
 * peers' and the shop's statements (and a `LIMIT $1` never meets a generic plan). Transitions/s is
 * tps × transitions per transaction; the check counts the events afterwards and requires exactly
 * that many, each order's status matching its events — a transaction that found no work (too few
 * orders seeded for the machine's speed) fails the run instead of inflating it.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as BenchDatabase from "../BenchDatabase.js"
import { BenchError } from "../BenchError.js"
import { int } from "../Report.js"
import * as PeerRun from "./PeerRun.js"
import * as TransitionSql from "./TransitionSql.js"

export const defaultPath = "/usr/bin/pgbench"

export interface Options {
  /** `-T` of each script (unless `transactions` is given). */
  readonly seconds: number
  /**
   * Transactions per client (`-t`) instead of `-T seconds`: a fixed amount of work, with the orders
   * seeded for it (plus a reserve for the batches the other clients hold locked), so no transaction
   * can find no work however fast the machine is. For checks of the scripts, not for figures.
   */
  readonly transactions?: number | undefined
  /** `-c`. */
  readonly clients: number
  /** Script B runs once per batch size. */
  readonly batches: ReadonlyArray<number>
  /** Whether script A runs first (default `true`); the tick's limit alone needs only B. */
  readonly one?: boolean | undefined
  /** At least this many orders are seeded (FulfillmentRun's 20,000). */
  readonly orders: number
  /**
   * Transitions/s the seed must cover for `seconds`, per script; beyond it the check fails and asks
   * for more. The defaults are several times what this 2-core machine reaches.
   */
  readonly ceilingOne?: number | undefined
  readonly ceilingTick?: number | undefined
  readonly pgbench?: string | undefined
  /** Bounds one pgbench process (`seconds` plus its connections and exit). */
  readonly timeout?: Duration.DurationInput | undefined
}

export interface ScriptResult extends PeerRun.PeerResult {
  readonly script: "A" | "B"
  readonly batch: number
  readonly clients: number
  readonly tps: number
  readonly transactions: number
}

export const defaults = { ceilingOne: 20_000, ceilingTick: 60_000 } as const

/** Whether a pgbench binary is there to run. */
export const installed = (path = defaultPath): Effect.Effect<boolean> =>
  Effect.sync(() => {
    try {
      Fs.accessSync(path, Fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })

export const scriptOne = `-- A: one order, one step, one transaction (see PgBenchRun.ts)
\\set j :k * :clients + :client_id
\\set k :k + 1
\\set id :first + permute(:j % :n, :n)
\\if :j < :n
${TransitionSql.transition(TransitionSql.pick, "ARRAY[:id::bigint]")};
\\else
${TransitionSql.transition(TransitionSql.pack, "ARRAY[:id::bigint]")};
\\endif
`

/** The shop's `FULFILLMENT_STATEMENT_TIMEOUT` default, set in each tick as it does. */
const statementTimeoutMs = 5000

export const scriptTick = `-- B: the shop's tick, :batch orders one step each (see PgBenchRun.ts)
BEGIN;
SET LOCAL statement_timeout = ${statementTimeoutMs};
${TransitionSql.tick(":batch")};
COMMIT;
`

interface PgBenchOutput {
  readonly transactions: number
  readonly tps: number
}

/** "number of transactions actually processed: 123" and "tps = 12.3 (without initial connection time)". */
export const parseOutput = (text: string): PgBenchOutput | undefined => {
  const processed = /number of transactions actually processed: (\d+)/.exec(text)
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(text)
  return processed && tps ? { transactions: Number(processed[1]), tps: Number(tps[1]) } : undefined
}

const spawn = (path: string, args: ReadonlyArray<string>, timeout: Duration.DurationInput) =>
  Effect.async<string, BenchError>((resume) => {
    const child = ChildProcess.spawn(path, args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("error", (cause) => resume(Effect.fail(new BenchError({ message: `cannot run ${path}`, cause }))))
    child.on("close", (code) =>
      resume(
        code === 0
          ? Effect.succeed(output)
          : Effect.fail(new BenchError({ message: `pgbench exited with ${code}:\n${output.trim()}` }))
      ))
    return Effect.sync(() => child.kill("SIGINT"))
  }).pipe(
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new BenchError({ message: "pgbench did not finish" }) })
  )

const roundUp = (n: number, multiple: number) => Math.ceil(n / multiple) * multiple

/**
 * One script on a freshly emptied schema: seed, pgbench, check. `batch` is 1 for script A.
 */
export const runScript = (
  db: PeerRun.PeerDatabase,
  dir: string,
  script: "A" | "B",
  batch: number,
  options: Options
): Effect.Effect<ScriptResult, BenchError> =>
  Effect.gen(function*() {
    const one = script === "A"
    const ceiling = one ? options.ceilingOne ?? defaults.ceilingOne : options.ceilingTick ?? defaults.ceilingTick
    // transitions the seed must hold: for `-T`, the ceiling's worth; for `-t`, exactly the work, and
    // a reserve of two batches per client (rows the other clients' ticks hold locked are skipped)
    const transitions = options.transactions === undefined
      ? options.seconds * ceiling
      : (options.transactions + 2) * options.clients * batch
    // two transitions per order; A needs n to be a multiple of the clients (see above)
    const orders = roundUp(Math.max(options.orders, Math.ceil(transitions / 2)), options.clients)
    yield* db.sql`TRUNCATE order_events, order_items, orders RESTART IDENTITY`
    const range = yield* PeerRun.seed(db.sql, orders, () => Effect.void)

    const file = Path.join(dir, one ? "one.sql" : `tick-${batch}.sql`)
    yield* Effect.sync(() => Fs.writeFileSync(file, one ? scriptOne : scriptTick))
    const variables = one ?
      ["-D", "k=0", "-D", `clients=${options.clients}`, "-D", `first=${range.first}`, "-D", `n=${orders}`] :
      ["-D", `batch=${batch}`]
    const length = options.transactions === undefined
      ? ["-T", String(options.seconds)]
      : ["-t", String(options.transactions)]
    const args = [
      ...["-n", "-c", String(options.clients), "-j", String(Math.min(2, options.clients)), ...length],
      ...["-M", "extended", ...variables, "-f", file, Redacted.value(db.url)]
    ]
    const text = yield* spawn(
      options.pgbench ?? defaultPath,
      args,
      options.timeout ?? `${options.seconds + 60} seconds`
    )
    const output = parseOutput(text)
    if (output === undefined) return yield* new BenchError({ message: `unexpected pgbench output:\n${text}` })

    const expected = output.transactions * batch
    const t = yield* PeerRun.tally(db.sql, range)
    const consistent = t.events("picking") === t.orders("picking") + t.orders("packed") &&
      t.events("packed") === t.orders("packed") &&
      t.orders("paid") + t.orders("picking") + t.orders("packed") === orders
    if (t.allEvents !== expected || t.duplicates > 0 || !consistent) {
      return yield* new BenchError({
        message: `pgbench ${script}: ${int(output.transactions)} transactions × ${batch} = ${int(expected)} ` +
          `transitions expected; found ${t.describe}` +
          (t.allEvents < expected ? ` (some found no work: raise the ceiling of ${int(ceiling)}/s)` : "")
      })
    }
    const transitionsPerSecond = output.tps * batch
    return {
      peer: one ? "pgbench A: one transition per transaction" : `pgbench B: the shop's tick, batch ${batch}`,
      script,
      batch,
      clients: options.clients,
      orders,
      tps: output.tps,
      transactions: output.transactions,
      transitions: expected,
      seconds: expected / transitionsPerSecond,
      transitionsPerSecond,
      config: `pgbench -n -c ${options.clients} -j ${Math.min(2, options.clients)} ${length.join(" ")} -M extended, ` +
        `${int(orders)} paid orders seeded; ${int(output.tps)} tps × ${batch} transition${batch === 1 ? "" : "s"}`
    }
  }).pipe(
    Effect.catchTag("SqlError", (cause) => new BenchError({ message: `pgbench ${script}: ${cause.message}`, cause }))
  )

/** Script A (unless `one` is `false`), then B once per batch size, on one fresh database (emptied before each). */
export const run = (
  adminUrl: Redacted.Redacted,
  options: Options
): Effect.Effect<ReadonlyArray<ScriptResult>, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const db = yield* PeerRun.freshDatabase(adminUrl, "pgbench")
    const dir = yield* BenchDatabase.tempDir("shop-pgbench-")
    const results: Array<ScriptResult> = options.one === false ? [] : [yield* runScript(db, dir, "A", 1, options)]
    for (const batch of options.batches) results.push(yield* runScript(db, dir, "B", batch, options))
    return results
  }))
