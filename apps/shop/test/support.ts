/**
 * Starts the whole shop in-process (the same ShopLive layer as production) on a fresh database and
 * an ephemeral port, for tests where the whole service is the point (the carrier integration, the
 * metrics of everything, readiness while the database goes away). Closing the surrounding scope shuts
 * it down like a SIGTERM would. A test of one part runs that part's layer instead (`layers.ts`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Database } from "@shop/database"
import { GracefulHttp, Lifecycle } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Fulfillment } from "../src/Fulfillment.js"
import { OutboxSweeper } from "../src/Outbox.js"
import { ShopLive } from "../src/ShopLive.js"
import { firstTick } from "./fixtures.js"
import { settingsLayer, testEnvironment, TestLogs } from "./layers.js"

/** A SQL client of the test's own on `url`, independent of any shop's pool (which closes with the shop). */
export const sqlFor = (url: Redacted.Redacted) =>
  Effect.map(
    Layer.build(Database.layerFromUrl({ url, poolSize: 2, connectTimeout: "5 seconds", idleTimeout: "5 seconds" })),
    (context) => Context.get(context, SqlClient.SqlClient)
  )

export const startShop = (settings: Record<string, string> = {}, options: { databaseUrl?: Redacted.Redacted } = {}) =>
  Effect.gen(function*() {
    const environment = yield* testEnvironment(settings, options.databaseUrl)
    const context = yield* Layer.build(
      ShopLive.pipe(
        Layer.provideMerge(Lifecycle.layer),
        Layer.provideMerge(TestLogs.layer),
        Layer.provide(settingsLayer(environment))
      )
    )
    // Both workers tick once at start-up: let that happen before the test writes its rows.
    yield* firstTick(Context.get(context, Fulfillment).worker)
    yield* firstTick(Context.get(context, OutboxSweeper))
    const port = Context.get(context, GracefulHttp.GracefulHttp).port
    const logs = Context.get(context, TestLogs).lines
    return {
      context,
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      mailDir: environment.MAIL_DIR,
      logs,
      databaseUrl: Redacted.make(environment.DATABASE_URL)
    }
  })
