/**
 * Starts the whole shop in-process (the same ShopLive layer as production) on a fresh database and
 * an ephemeral port. Closing the surrounding scope shuts it down like a SIGTERM would.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Database } from "@shop/database"
import { TestDatabase } from "@shop/database/testing"
import { GracefulHttp, Lifecycle, PeriodicWorker } from "@shop/lifecycle"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { Fulfillment } from "../src/Fulfillment.js"
import { OutboxSweeper } from "../src/Outbox.js"
import { ShopLive } from "../src/ShopLive.js"

/** A fresh database for the test (dropped with the scope): pass it to several `startShop`s to share it. */
export const freshDatabase = Effect.flatMap(TestDatabase.adminUrl, TestDatabase.create)

/** A SQL client of the test's own on `url`, independent of any shop's pool (which closes with the shop). */
export const sqlFor = (url: Redacted.Redacted) =>
  Effect.map(
    Layer.build(Database.layerFromUrl({ url, poolSize: 2, connectTimeout: "5 seconds", idleTimeout: "5 seconds" })),
    (context) => Context.get(context, SqlClient.SqlClient)
  )

export const startShop = (settings: Record<string, string> = {}, options: { databaseUrl?: Redacted.Redacted } = {}) =>
  Effect.gen(function*() {
    const databaseUrl = options.databaseUrl ?? (yield* freshDatabase)
    const mailDir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "shop-mail-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    const logs: Array<string> = []
    const config = ConfigProvider.fromMap(
      new Map(Object.entries({
        PORT: "0",
        HOST: "127.0.0.1",
        DATABASE_URL: Redacted.value(databaseUrl),
        MAIL_DIR: mailDir,
        // Workers only run when a test asks (trigger) or calls the services directly.
        FULFILLMENT_INTERVAL: "1 hour",
        OUTBOX_SWEEP_INTERVAL: "1 hour",
        // the in-process carrier simulator, fast
        CARRIER_SIM_LATENCY: "20 millis",
        CARRIER_SIM_JITTER: "5 millis",
        CARRIER_SIM_IN_TRANSIT_AFTER: "30 millis",
        CARRIER_SIM_DELIVERED_AFTER: "60 millis",
        ...settings
      }))
    )
    const capture = Logger.make(({ message }) => {
      logs.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    const context = yield* Layer.build(
      ShopLive.pipe(
        Layer.provideMerge(Lifecycle.layer),
        Layer.provide(Layer.setConfigProvider(config)),
        Layer.provide(Logger.replace(Logger.defaultLogger, capture))
      )
    )
    // Both workers tick once at start-up: let that happen before the test writes its rows.
    yield* firstTick(Context.get(context, Fulfillment).worker)
    yield* firstTick(Context.get(context, OutboxSweeper))
    const port = Context.get(context, GracefulHttp.GracefulHttp).port
    return { context, port, baseUrl: `http://127.0.0.1:${port}`, mailDir, logs, databaseUrl }
  })

/** Polls `check` until it holds, every 20 ms, up to `bound` times; fails with `what` otherwise. */
export const eventually = <A>(check: Effect.Effect<A>, holds: (a: A) => boolean, what: string, bound = 250) =>
  check.pipe(
    Effect.filterOrFail(holds, () => new Error(`never happened: ${what}`)),
    Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.intersect(Schedule.recurs(bound))))
  )

export const firstTick = (worker: PeriodicWorker.PeriodicWorker) =>
  Effect.repeat(worker.stats, { until: (stats) => stats.ticks >= 1, schedule: Schedule.spaced("5 millis") })

export interface JsonResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

export const call = (
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Effect.Effect<JsonResponse> =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: keep the text, the test will say so
    }
    return { status: response.status, headers: response.headers, body: parsed }
  })

export const anOrder = (email = "ada@example.com") => ({
  email,
  items: [{ sku: "TEA-GREEN-250", quantity: 2, unitPriceCents: 450 }, {
    sku: "MUG-1",
    quantity: 1,
    unitPriceCents: 1200
  }]
})
