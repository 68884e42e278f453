import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Net from "node:net"
import * as GracefulHttp from "../src/GracefulHttp.js"
import * as Health from "../src/Health.js"
import * as Lifecycle from "../src/Lifecycle.js"
import { keepAliveConnection, request, tryConnect } from "./http.js"
import { eventually, makeLogCapture } from "./utils.js"

/** Stands in for a database pool: the handlers need it, and it must outlive them. */
class Db extends Context.Tag("test/Db")<Db, { closed: boolean }>() {}

const start = (options: Partial<GracefulHttp.Options> = {}) =>
  Effect.gen(function*() {
    const entered = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const logs = yield* makeLogCapture
    const db = { closed: false }
    const DbLayer = Layer.scoped(
      Db,
      Effect.acquireRelease(Effect.succeed(db), (db) => Effect.sync(() => (db.closed = true)))
    )

    const router = HttpRouter.empty.pipe(
      HttpRouter.get("/fast", HttpServerResponse.text("fast")),
      HttpRouter.get(
        "/slow",
        Effect.gen(function*() {
          yield* Deferred.succeed(entered, undefined)
          yield* Deferred.await(release)
          const { closed } = yield* Db
          return HttpServerResponse.text(closed ? "db closed" : "db open")
        })
      ),
      HttpRouter.get("/stuck", Effect.zipRight(Deferred.succeed(entered, undefined), Effect.never)),
      HttpRouter.post(
        "/echo",
        Effect.map(HttpServerRequest.HttpServerRequest, (r) => r.text).pipe(
          Effect.flatten,
          Effect.map((body) => HttpServerResponse.text(`${body.length} bytes`))
        )
      ),
      HttpRouter.get("/defect", Effect.dieMessage("secret internal detail")),
      HttpRouter.get("/healthz", Health.healthz),
      HttpRouter.get("/readyz", Health.readyz)
    )
    // The composition a user writes: serve, its dependencies, the server, the lifecycle.
    const AppLayer = HttpServer.serve(router).pipe(
      Layer.provide(DbLayer),
      Layer.provideMerge(GracefulHttp.layer({ port: 0, ...options })),
      Layer.provideMerge(Lifecycle.layer),
      Layer.provide(logs.layer)
    )
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(AppLayer, scope)
    const http = Context.get(context, GracefulHttp.GracefulHttp)
    const lifecycle = Context.get(context, Lifecycle.Lifecycle)
    const close = Effect.fork(Effect.uninterruptible(Scope.close(scope, Exit.void)))
    return { port: http.port, http, lifecycle, close, db, logs, entered, release }
  })

const promise = <A>(f: () => Promise<A>) => Effect.fork(Effect.promise(f))

describe("GracefulHttp", () => {
  it.live("an in-flight request finishes during shutdown with its dependencies still open; new connections are refused", () =>
    Effect.gen(function*() {
      const { close, db, entered, http, port, release } = yield* start()
      const slow = yield* promise(() => request(port, "/slow"))
      yield* Deferred.await(entered)

      const closing = yield* close
      yield* eventually(() => !http.server.listening, "listener closed")
      assert.strictEqual(yield* Effect.promise(() => tryConnect(port)), "refused")
      assert.isFalse(db.closed, "the database outlives the request that needs it")

      yield* Deferred.succeed(release, undefined)
      const response = yield* Fiber.join(slow)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.body, "db open")
      assert.strictEqual(response.headers.connection, "close")
      yield* Fiber.join(closing)
      assert.isTrue(db.closed)
    }))

  it.effect("during the pre-stop delay a request on a kept-alive socket is answered (with Connection: close) and /readyz says 503", () =>
    Effect.gen(function*() {
      const { close, http, port } = yield* start({ preStopDelay: "5 seconds" })
      const conn = yield* Effect.promise(() => keepAliveConnection(port))
      const first = yield* Effect.promise(() => conn.get("/fast"))
      assert.strictEqual(first.status, 200)
      assert.notStrictEqual(first.headers.connection, "close")

      const closing = yield* close
      yield* eventually(() => Effect.runSync(http.stats).draining, "draining")
      const second = yield* Effect.promise(() => conn.get("/fast"))
      assert.strictEqual(second.status, 200, "answered, not left hanging without a handler")
      assert.strictEqual(second.headers.connection, "close")
      yield* Effect.promise(() => conn.closed)

      const ready = yield* Effect.promise(() => request(port, "/readyz"))
      assert.strictEqual(ready.status, 503)
      assert.deepInclude(JSON.parse(ready.body), { status: "not ready", phase: "draining" })

      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(closing)
      assert.strictEqual(yield* Effect.promise(() => tryConnect(port)), "refused")
    }))

  it.live("a request already on the wire on a kept-alive socket when the drain starts is answered, not reset", () =>
    Effect.gen(function*() {
      const { close, port } = yield* start()
      const conn = yield* Effect.promise(() => keepAliveConnection(port))
      yield* Effect.promise(() => conn.get("/fast")) // the socket is now idle, kept alive
      const sent = conn.get("/fast") // written now; the server has not read it yet
      const closing = yield* close
      const response = yield* Effect.promise(() => sent)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.connection, "close")
      yield* Fiber.join(closing)
    }))

  it.effect("a connection that never sent a request is closed after the idle grace, not left to hold the drain", () =>
    Effect.gen(function*() {
      const { close, http, port } = yield* start({ idleGrace: "250 millis" })
      const silent = Net.connect(port, "127.0.0.1")
      const silentClosed = new Promise<void>((resolve) => silent.once("close", () => resolve()))
      silent.on("error", () => {})
      yield* eventually(() => Effect.runSync(http.stats).connections === 1, "connection accepted")

      const closing = yield* close
      yield* eventually(() => !http.server.listening, "listener closed")
      assert.strictEqual(Effect.runSync(http.stats).connections, 1, "kept during the grace")
      yield* TestClock.adjust("250 millis")
      // Bounded in real time only as a failure detector: without the fix the drain waits for the
      // drain timeout (10 s of the TestClock, which never passes here).
      const outcome = yield* Effect.promise(() =>
        Promise.race([
          silentClosed.then(() => "closed" as const),
          new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), 5_000).unref())
        ])
      )
      assert.strictEqual(outcome, "closed")
      yield* Fiber.join(closing)
    }))

  it.live("a request still running at the drain timeout is cut, counted in the log, and shutdown completes", () =>
    Effect.gen(function*() {
      const { close, entered, logs, port } = yield* start({ drainTimeout: "100 millis" })
      const stuck = yield* Effect.fork(Effect.either(Effect.tryPromise(() => request(port, "/stuck"))))
      yield* Deferred.await(entered)
      const closing = yield* close
      yield* Fiber.join(closing)
      const result = yield* Fiber.join(stuck)
      assert.isTrue(result._tag === "Left", "the client sees the connection cut")
      assert.match(logs.text(), /drain timeout of 100ms passed; cut 1 connection\(s\) with 1 request\(s\) in flight/)
    }))

  it.live("a body over the limit gets 413 with a JSON body; one under it is served", () =>
    Effect.gen(function*() {
      const { port } = yield* start({ maxBodySize: 1024 })
      const big = yield* Effect.promise(() => request(port, "/echo", { method: "POST", body: "x".repeat(2048) }))
      assert.strictEqual(big.status, 413)
      assert.deepStrictEqual(JSON.parse(big.body), {
        _tag: "PayloadTooLarge",
        message: "request body of 2048 bytes exceeds the limit of 1024 bytes"
      })
      const small = yield* Effect.promise(() => request(port, "/echo", { method: "POST", body: "x".repeat(512) }))
      assert.strictEqual(small.status, 200)
      assert.strictEqual(small.body, "512 bytes")
    }))

  it.live("error responses the platform leaves empty get a JSON body, without internals", () =>
    Effect.gen(function*() {
      const { port } = yield* start()
      const missing = yield* Effect.promise(() => request(port, "/no/such/route"))
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(JSON.parse(missing.body), { _tag: "NotFound", message: "no route for GET /no/such/route" })
      const defect = yield* Effect.promise(() => request(port, "/defect"))
      assert.strictEqual(defect.status, 500)
      assert.deepStrictEqual(JSON.parse(defect.body), { _tag: "InternalServerError", message: "internal error" })
    }))

  it.live("/healthz is 200; /readyz is 200 when checks pass and 503 naming the failing check", () =>
    Effect.gen(function*() {
      const { lifecycle, port } = yield* start()
      let up = true
      yield* lifecycle.addReadinessCheck("database", Effect.suspend(() => up ? Effect.void : Effect.fail("timeout")))
        .pipe(Effect.forkScoped)
      yield* eventually(() => true, "check registered")
      assert.strictEqual((yield* Effect.promise(() => request(port, "/healthz"))).status, 200)
      assert.strictEqual((yield* Effect.promise(() => request(port, "/readyz"))).status, 200)
      up = false
      const down = yield* Effect.promise(() => request(port, "/readyz"))
      assert.strictEqual(down.status, 503)
      assert.deepStrictEqual(JSON.parse(down.body).checks, [{ name: "database", ok: false, error: "timeout" }])
    }).pipe(Effect.scoped))
})
