/**
 * The HTTP half of the bench, against a shop whose worker is parked: `POST /v1/orders`, then
 * `GET /v1/orders/{id}` over the orders that run created; the shop's RSS sampled throughout and the
 * CPU split (shop / PostgreSQL / autocannon) of each measured run.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import type autocannon from "autocannon"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { BenchError } from "./BenchError.js"
import type { BenchOptions } from "./BenchOptions.js"
import * as CpuUsage from "./CpuUsage.js"
import * as HttpLoad from "./HttpLoad.js"
import { int, mb, type Row } from "./Report.js"
import type { ShopProcess } from "./ShopProcess.js"

export interface Outcome {
  readonly rows: ReadonlyArray<Row>
  /** Failed checks: non-2xx answers or connection errors. */
  readonly failures: ReadonlyArray<string>
}

export const run = (
  shop: ShopProcess,
  sql: PgClient.PgClient,
  options: BenchOptions
): Effect.Effect<Outcome, BenchError> =>
  Effect.gen(function*() {
    const rows: Array<Row> = []
    const failures: Array<string> = []
    const load: HttpLoad.LoadOptions = { ...options, baseUrl: shop.baseUrl }
    const config = `autocannon -c ${options.connections} -d ${Duration.toSeconds(options.duration)} after ` +
      `${Duration.toSeconds(options.warmup)} s warm-up; workers parked`

    const rssAtReady = Option.getOrElse(yield* shop.rss, () => 0)
    let peakRss = rssAtReady
    const sampler = yield* Effect.fork(Effect.repeat(
      Effect.tap(shop.rss, (rss) => Effect.sync(() => peakRss = Math.max(peakRss, Option.getOrElse(rss, () => 0)))),
      Schedule.spaced(Duration.millis(100))
    ))

    // the backends of the shop's pool; they are all connected once the warm-up ran
    const backendPids = Effect.map(
      sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
                           WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      (rows) => rows.map((row) => Number(row.pid))
    )

    const phase = (title: string, request: autocannon.Request, detail: string) =>
      Effect.gen(function*() {
        yield* HttpLoad.warmUp(title, load, request)
        const before = yield* CpuUsage.snapshot(shop.pid, yield* backendPids)
        const result = yield* HttpLoad.measure(title, load, request)
        const cpu = yield* CpuUsage.since(before, shop.pid)
        console.log(`${title}: CPU (100% = one core) ${CpuUsage.format(cpu)}`)
        rows.push(
          {
            figure: `${title} requests/s (mean)`,
            value: int(result.requestsPerSecond),
            config: `${config}; ${detail}`
          },
          {
            figure: `${title} latency p50 / p99`,
            value: `${result.p50} ms / ${result.p99} ms`,
            config: `max ${result.max} ms`
          },
          {
            figure: `${title} non-2xx / errors / timeouts`,
            value: `${result.non2xx} / ${result.errors} / ${result.timeouts}`,
            config: `${int(result.requests)} requests: ${result.statuses}`
          },
          { figure: `${title} CPU during the measured run`, value: CpuUsage.format(cpu), config: "100% = one core" }
        )
        if (result.non2xx > 0 || result.errors > 0) {
          failures.push(`${title}: ${result.non2xx} non-2xx, ${result.errors} errors`)
        }
      })

    yield* phase("POST /v1/orders", HttpLoad.createOrders(), "1–3 items per order")
    const ids = (yield* sql<{ id: string }>`SELECT id FROM orders ORDER BY id DESC LIMIT 10000`).map((r) =>
      Number(r.id)
    )
    if (ids.length === 0) return yield* new BenchError({ message: "POST /v1/orders created no orders" })
    yield* phase("GET /v1/orders/{id}", HttpLoad.getOrders(ids), `rotating over ${int(ids.length)} ids`)
    yield* Fiber.interrupt(sampler)

    rows.push({
      figure: "shop peak RSS during HTTP load",
      value: `${mb(peakRss)} (at ready: ${mb(rssAtReady)})`,
      config: "VmRSS of the shop pid every 100 ms, warm-ups included"
    })
    return { rows, failures }
  }).pipe(Effect.catchTag("SqlError", (cause) => new BenchError({ message: `HTTP phase: ${cause.message}`, cause })))
