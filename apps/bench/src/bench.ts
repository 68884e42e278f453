/**
 * `node apps/bench/dist/bench.js [--duration 10 --connections 50 --batches 100,500 …]` (`--help`).
 *
 * 1. a fresh database (`bench_<random>` on DATABASE_URL, or the shop's embedded server in a temp dir);
 * 2. the shop as production runs it, its fulfillment worker parked (`FULFILLMENT_INTERVAL=1 hour`; the
 *    carrier dispatcher too, `CARRIER_DISPATCH_INTERVAL=1 hour`, in every shop the bench starts);
 * 3. autocannon on `POST /v1/orders`, then `GET /v1/orders/{id}` (HttpPhase);
 * 4. per batch size, a second shop process with a fast worker and N paid orders (FulfillmentRun);
 * 5. carrier bookings against the standalone simulator: bookings/s vs N/L, and SIGTERM → exit with N
 *    bookings in flight (CarrierRun);
 * 6. SIGTERM → exit of the first shop, then the markdown table. `--phases` picks among 3–5. Every
 *    resource is scoped: children, temp dirs and the bench database are removed on success, failure
 *    and Ctrl-C alike.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Os from "node:os"
import * as Path from "node:path"
import * as BenchDatabase from "./BenchDatabase.js"
import { BenchError } from "./BenchError.js"
import * as BenchOptions from "./BenchOptions.js"
import * as CarrierRun from "./CarrierRun.js"
import * as Cli from "./Cli.js"
import * as FulfillmentRun from "./FulfillmentRun.js"
import * as HttpPhase from "./HttpPhase.js"
import { int, markdown, mb, ms, type Row, shutdownRow } from "./Report.js"
import * as ShopProcess from "./ShopProcess.js"

interface PhaseInput {
  readonly options: BenchOptions.BenchOptions
  readonly shop: ShopProcess.ShopProcess
  readonly target: BenchDatabase.Target
  readonly env: Readonly<Record<string, string | undefined>>
  readonly workDir: string
}

/** The database row and every phase asked for, on the bench's own pool (closed before the first shop stops). */
const phases = ({ env, options, shop, target, workDir }: PhaseInput) =>
  Effect.scoped(
    Effect.gen(function*() {
      const rows: Array<Row> = []
      const failures: Array<string> = []
      const sql = yield* BenchDatabase.connect(target.url)
      const [{ version }] = yield* sql<{ version: string }>`SELECT current_setting('server_version') AS version`
      rows.push({
        figure: "database",
        value: `${target.kind} PostgreSQL ${version.split(" ")[0]}`,
        config: target.kind === "external"
          ? "DATABASE_URL given: a fresh database bench_<random>, dropped at the end"
          : "DATABASE_URL unset: the shop's embedded server in a temp EMBEDDED_PG_DIR"
      }, {
        figure: "shop start → /readyz 200",
        value: ms(shop.startToReady),
        config: `node apps/shop/dist/main.js, LOG_LEVEL=Warn` +
          (target.kind === "embedded" ? ", includes initdb and the embedded server's start" : ", includes migrations")
      })

      if (options.phases.has("http")) {
        const http = yield* HttpPhase.run(shop, sql, options)
        rows.push(...http.rows)
        failures.push(...http.failures)
      }

      if (options.phases.has("fulfillment") && options.history > 0) {
        const started = Date.now()
        yield* FulfillmentRun.seedHistory(sql, options.history)
        console.log(
          `inserted ${int(options.history)} delivered orders in ${ms(Duration.millis(Date.now() - started))}`
        )
        rows.push({
          figure: "history before the fulfillment runs",
          value: `${int(options.history)} delivered orders`,
          config: "--history: one INSERT … generate_series, ids below the paid orders"
        })
      }
      for (const batch of options.phases.has("fulfillment") ? options.batches : []) {
        const fulfillment = yield* FulfillmentRun.phase(sql, {
          ...options,
          batch,
          timeout: options.fulfillmentTimeout,
          env: { ...env, DATABASE_URL: Redacted.value(target.url) },
          cwd: workDir
        })
        rows.push(...fulfillment.rows)
        failures.push(...fulfillment.failures)
      }

      if (options.phases.has("carrier")) {
        const carrier = yield* CarrierRun.phase(sql, { ...options, env, url: target.url, cwd: workDir })
        rows.push(...carrier.rows)
        failures.push(...carrier.failures)
      }
      return { rows, failures }
    }).pipe(Effect.catchTag("SqlError", (cause) => new BenchError({ message: cause.message, cause })))
  )

const program = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const options = yield* Effect.mapError(
      BenchOptions.config,
      (cause) => new BenchError({ message: `invalid options: ${String(cause)}`, cause })
    )
    const cpus = Os.cpus()
    // other work on the machine skews every figure: record how busy it was
    const loadAtStart = Os.loadavg()[0]
    console.log(
      `shop bench: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), Node ${process.version}, ` +
        `${mb(Os.totalmem())} RAM, load average ${loadAtStart.toFixed(2)}; shop: ${ShopProcess.mainJs}`
    )
    const rows: Array<Row> = []
    const failures: Array<string> = []

    const workDir = yield* BenchDatabase.tempDir("shop-bench-")
    const target = yield* BenchDatabase.acquire(options.databaseUrl)
    console.log(`database: ${target.description}`)
    const env = {
      ...process.env,
      // Effect's Config.logLevel knows "Warn", not "Warning": an unknown level makes the shop exit 1 silently
      LOG_LEVEL: "Warn",
      LOG_FORMAT: "pretty",
      // MAIL_DIR and any relative path of the shop land in the temp dir
      MAIL_DIR: Path.join(workDir, "mail"),
      // the carrier dispatcher stays parked: no packed order exists when a shop starts, and without a
      // booking nothing wakes it before its interval
      CARRIER_DISPATCH_INTERVAL: "1 hour"
    }

    const shop = yield* ShopProcess.start({
      name: "shop",
      cwd: workDir,
      env: { ...env, ...target.firstShopEnv, FULFILLMENT_INTERVAL: "1 hour" },
      readyTimeout: options.readyTimeout
    })
    console.log(`shop (pid ${shop.pid}) ready in ${ms(shop.startToReady)}`)

    // the bench's own pool is closed before the first shop stops (embedded, it stops the server)
    const measured = yield* phases({ options, shop, target, env, workDir })
    rows.push(...measured.rows)
    failures.push(...measured.failures)

    const stopped = yield* shop.terminate(Duration.seconds(30))
    rows.push(shutdownRow(`SIGTERM → exit, shop${target.kind === "embedded" ? " (stops embedded PG)" : ""}`, stopped))
    if (stopped.code !== 0) failures.push(`shop exited with ${stopped.code ?? stopped.signal}`)
    rows.push({
      figure: "machine load average (1 min), start / end",
      value: `${loadAtStart.toFixed(2)} / ${Os.loadavg()[0].toFixed(2)}`,
      config: `${cpus.length} cores, Node ${process.version}; a start above ~0.5 means other work skewed the run`
    })

    console.log(`\n${markdown(rows)}\n`)
    console.log(`command: node apps/bench/dist/bench.js${argv.length > 0 ? ` ${argv.join(" ")}` : ""}`)
    if (failures.length > 0) return yield* new BenchError({ message: `checks failed:\n${failures.join("\n")}` })
  }).pipe(Effect.scoped)

Cli.main({ name: "bench", usage: BenchOptions.usage, parseFlags: BenchOptions.parseFlags, program })
