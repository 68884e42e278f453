import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Database } from "@shop/database"
import { TestDatabase } from "@shop/database/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { call, startShop } from "./support.js"

describe("readiness follows the database", () => {
  it.scopedLive("/readyz turns 503 while the database refuses connections and recovers by itself", () =>
    Effect.gen(function*() {
      const { baseUrl, databaseUrl } = yield* startShop({ DATABASE_CONNECT_TIMEOUT: "1 second" })
      const name = new URL(Redacted.value(databaseUrl)).pathname.slice(1)
      const admin = yield* Layer.build(Database.layerFromUrl({
        url: yield* TestDatabase.adminUrl,
        poolSize: 1,
        connectTimeout: "5 seconds",
        idleTimeout: "5 seconds"
      }))
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provide(admin))
      const setAllowed = (allowed: boolean) =>
        Effect.gen(function*() {
          yield* sql.unsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS ${allowed}`)
          if (!allowed) {
            yield* sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name}`
          }
        }).pipe(Effect.orDie)
      const readyStatus = call(baseUrl, "GET", "/readyz")
      // The pool notices on its next use: poll within a bound instead of guessing a delay.
      const pollUntil = (status: number) =>
        readyStatus.pipe(
          Effect.filterOrFail((r) => r.status === status),
          Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(50)))),
          Effect.orElse(() => readyStatus)
        )

      assert.strictEqual((yield* readyStatus).status, 200)
      yield* setAllowed(false)
      const down = yield* pollUntil(503)
      assert.strictEqual(down.status, 503)
      assert.deepInclude(down.body, { _tag: "NotReady", phase: "running" })
      assert.deepInclude(down.body.checks[0], { name: "database", ok: false })
      assert.strictEqual((yield* call(baseUrl, "GET", "/healthz")).status, 200, "liveness does not follow the database")

      yield* setAllowed(true)
      const up = yield* pollUntil(200)
      assert.strictEqual(up.status, 200)
    }))
})
