import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Database } from "@shop/database"
import { TestDatabase } from "@shop/database/testing"
import { NotReady } from "@shop/domain/Errors"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { anOrder, call, errorBody, idOf } from "./fixtures.js"
import { sqlFor, startShop } from "./support.js"

describe("readiness follows the database", () => {
  it.scopedLive("a request whose database connection dies under it gets 503 with Retry-After, not 500", () =>
    Effect.gen(function*() {
      const { baseUrl, databaseUrl } = yield* startShop()
      const sql = yield* sqlFor(databaseUrl)
      const id = idOf(yield* call(baseUrl, "POST", "/v1/orders", anOrder()))
      const release = yield* TestDatabase.holdRowLock(sql, "orders", id)
      const pay = yield* Effect.fork(call(baseUrl, "POST", `/v1/orders/${id}/pay`))
      // the pay request's backend, waiting on the row lock: kill it, as a server restart would
      const victims = yield* sql<{ pid: number }>`
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`.pipe(
        Effect.orDie,
        Effect.filterOrFail((rows) => rows.length === 1, () => "pay not waiting yet"),
        Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.intersect(Schedule.recurs(250)))),
        Effect.orDie
      )
      yield* sql`SELECT pg_terminate_backend(${victims[0].pid})`.pipe(Effect.orDie)
      const response = yield* Fiber.join(pay)
      assert.strictEqual(response.status, 503)
      assert.strictEqual(response.headers.get("retry-after"), "1")
      assert.strictEqual(errorBody(response.body)._tag, "ServiceUnavailable")
      yield* release
      assert.strictEqual((yield* call(baseUrl, "POST", `/v1/orders/${id}/pay`)).status, 200, "the pool recovers")
    }))

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
      const notReady = Schema.decodeUnknownSync(NotReady)(down.body)
      assert.strictEqual(notReady.phase, "running")
      assert.deepInclude(notReady.checks[0], { name: "database", ok: false })
      assert.strictEqual((yield* call(baseUrl, "GET", "/healthz")).status, 200, "liveness does not follow the database")

      yield* setAllowed(true)
      const up = yield* pollUntil(200)
      assert.strictEqual(up.status, 200)
    }))
})
