import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { GracefulHttp, Lifecycle } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Supervisor from "effect/Supervisor"
import * as Net from "node:net"
import * as FastHttpApi from "../src/FastHttpApi.js"
import * as RequestPolicy from "../src/RequestPolicy.js"

class Busy
  extends Schema.TaggedError<Busy>()("Busy", { message: Schema.String }, HttpApiSchema.annotations({ status: 503 }))
{}

/** An error whose tag is "Failure": an Effect, but not an Exit. */
class Failure extends Schema.TaggedError<Failure>()(
  "Failure",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** … and one whose tag is "Success", with a `value`. */
class Success extends Schema.TaggedError<Success>()(
  "Success",
  { value: Schema.Number },
  HttpApiSchema.annotations({ status: 418 })
) {}

class Api extends HttpApi.make("test")
  .add(
    HttpApiGroup.make("fast")
      .add(HttpApiEndpoint.get("sync", "/sync").addSuccess(Schema.Struct({ ok: Schema.Boolean })))
      .add(
        HttpApiEndpoint.get("async", "/async/:n").setPath(Schema.Struct({ n: Schema.NumberFromString }))
          .addSuccess(Schema.Number)
      )
      .add(HttpApiEndpoint.post("write", "/write").addSuccess(HttpApiSchema.Text()))
      .add(HttpApiEndpoint.get("read", "/read").addSuccess(HttpApiSchema.Text()))
      .add(HttpApiEndpoint.get("raw", "/raw"))
      .add(HttpApiEndpoint.get("busy", "/busy"))
      .add(HttpApiEndpoint.get("failure", "/failure").addError(Failure))
      .add(HttpApiEndpoint.get("success", "/success").addSuccess(Schema.Number).addError(Success))
      .add(HttpApiEndpoint.get("badHeader", "/bad-header"))
      .add(
        HttpApiEndpoint.get("counter", "/counter").addSuccess(
          Schema.Struct({ n: Schema.Number, inFiber: Schema.Boolean })
        )
      )
      .add(HttpApiEndpoint.get("throws", "/throws"))
  )
  .add(
    HttpApiGroup.make("plain")
      .add(HttpApiEndpoint.get("plain", "/plain").addSuccess(HttpApiSchema.Text()))
      .add(HttpApiEndpoint.get("plainBusy", "/plain-busy"))
  )
  .addError(Busy)
{}

/** Handshakes with the handlers: when they started, and how they ended. */
class Probe extends Context.Tag("test/Probe")<Probe, {
  readonly started: Deferred.Deferred<void>
  readonly release: Deferred.Deferred<void>
  readonly ended: Deferred.Deferred<"completed" | "interrupted">
  /** How many times the `Effect.sync` handlers' thunks ran. */
  readonly calls: { counter: number; throws: number }
}>() {}

const FastGroup = FastHttpApi.group(Api, "fast", (handlers) =>
  Effect.map(Probe, (probe) => {
    const slow = Deferred.succeed(probe.started, undefined).pipe(
      Effect.zipRight(Deferred.await(probe.release)),
      Effect.zipRight(Deferred.succeed(probe.ended, "completed")),
      Effect.onInterrupt(() => Deferred.succeed(probe.ended, "interrupted")),
      Effect.as("done")
    )
    return handlers
      .handle("sync", () => Effect.succeed({ ok: true }))
      .handle("async", ({ path }) => Effect.delay(Effect.succeed(path.n * 2), "1 millis"))
      .handle("write", () => slow, { uninterruptible: true })
      .handle("read", () => slow)
      .handleRaw("raw", () => Effect.succeed(HttpServerResponse.text("raw")))
      .handle("busy", () => Effect.fail(new Busy({ message: "later" })))
      // the error itself as the handler's effect: it fails with itself
      .handle("failure", () => new Failure({ message: "no" }))
      .handle("success", () => new Success({ value: 1 }))
      // Node refuses the header when the answer is written
      .handle("badHeader", () =>
        Effect.delay(Effect.succeed(HttpServerResponse.text("x", { headers: { "x-bad": "a\nb" } })), "1 millis"))
      .handle("counter", () =>
        Effect.sync(() => ({ n: ++probe.calls.counter, inFiber: inFiber() })))
      .handle("throws", () =>
        Effect.sync(() => {
          probe.calls.throws++
          throw new Error("boom")
        }))
  }))

const inFiber = () => Option.isSome(Fiber.getCurrentFiber())

/** Remembers every fiber started under it. */
class Started extends Supervisor.AbstractSupervisor<void> {
  readonly fibers: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
  get value() {
    return Effect.void
  }
  override onStart(_context: unknown, _effect: unknown, _parent: unknown, fiber: Fiber.RuntimeFiber<unknown, unknown>) {
    this.fibers.push(fiber)
  }
}
const PlainGroup = HttpApiBuilder.group(
  Api,
  "plain",
  (handlers) =>
    handlers
      .handle("plain", () => Effect.succeed("plain"))
      .handle("plainBusy", () => Effect.fail(new Busy({ message: "later" })))
)

const start = (
  options: {
    middleware?: Layer.Layer<never>
    onResponse?: FastHttpApi.Options["onResponse"]
    supervisor?: Supervisor.Supervisor<unknown>
    /** Effect's tracer, on by default (as Effect's default). */
    tracer?: boolean
  } = {}
) =>
  Effect.gen(function*() {
    const logs: Array<string> = []
    const probe = {
      started: yield* Deferred.make<void>(),
      release: yield* Deferred.make<void>(),
      ended: yield* Deferred.make<"completed" | "interrupted">(),
      calls: { counter: 0, throws: 0 }
    }
    const ApiLive = HttpApiBuilder.api(Api).pipe(
      Layer.provide([FastGroup, PlainGroup]),
      Layer.provide(options.middleware ?? Layer.empty)
    )
    const context = yield* Layer.build(
      FastHttpApi.layer({ onResponse: options.onResponse }).pipe(
        Layer.provide(ApiLive),
        Layer.provide(Layer.succeed(Probe, probe)),
        Layer.provideMerge(GracefulHttp.layer({ port: 0, host: "127.0.0.1" })),
        Layer.provide(Lifecycle.layer),
        Layer.provide(options.supervisor === undefined ? Layer.empty : Supervisor.addSupervisor(options.supervisor)),
        Layer.provide(Layer.setTracerEnabled(options.tracer ?? true)),
        Layer.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message)))))
      )
    )
    return { port: Context.get(context, GracefulHttp.GracefulHttp).port, logs, probe }
  })

const get = (port: number, path: string, method = "GET") =>
  Effect.promise(async () => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method })
    return { status: response.status, body: await response.text(), retryAfter: response.headers.get("retry-after") }
  })

/** Sends a request and hangs up as soon as the handler started. */
const hangUp = (port: number, path: string, method: string, started: Deferred.Deferred<void>) =>
  Effect.gen(function*() {
    const socket = Net.connect(port, "127.0.0.1")
    socket.on("error", () => {})
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\ncontent-length: 0\r\n\r\n`)
    yield* Deferred.await(started)
    socket.destroy()
  })

describe("FastHttpApi", () => {
  it.scopedLive("serves the endpoints it can on the fast path and says once which the standard handler keeps", () =>
    Effect.gen(function*() {
      const { logs, port } = yield* start()
      const line = logs.find((l) => l.includes("route(s) on the fast path"))
      assert.isDefined(line)
      assert.include(line, "10 route(s) on the fast path")
      assert.include(line, "GET /raw (handleRaw")
      assert.include(line, "GET /plain (its group's handlers are not written with FastHttpApi.group)")
      assert.deepStrictEqual(yield* get(port, "/sync"), { status: 200, body: "{\"ok\":true}", retryAfter: null })
      assert.deepStrictEqual(yield* get(port, "/async/21"), { status: 200, body: "42", retryAfter: null })
      assert.deepStrictEqual(yield* get(port, "/raw"), { status: 200, body: "raw", retryAfter: null })
      assert.deepStrictEqual(yield* get(port, "/plain"), { status: 200, body: "plain", retryAfter: null })
      const decode = yield* get(port, "/async/abc")
      assert.strictEqual(decode.status, 400)
      assert.strictEqual(JSON.parse(decode.body)._tag, "HttpApiDecodeError")
    }))

  it.scopedLive("a handler that returns its error itself is answered with it, whatever the error's tag", () =>
    Effect.gen(function*() {
      const { port } = yield* start()
      assert.deepStrictEqual(yield* get(port, "/failure"), {
        status: 409,
        body: "{\"message\":\"no\",\"_tag\":\"Failure\"}",
        retryAfter: null
      })
      assert.deepStrictEqual(yield* get(port, "/success"), {
        status: 418,
        body: "{\"value\":1,\"_tag\":\"Success\"}",
        retryAfter: null
      })
    }))

  it.scopedLive("an answer Node refuses to write is a 500 with a JSON body, not a hung request", () =>
    Effect.gen(function*() {
      const { port } = yield* start()
      const answer = yield* get(port, "/bad-header")
      assert.strictEqual(answer.status, 500)
      assert.strictEqual(JSON.parse(answer.body)._tag, "InternalServerError")
      assert.deepStrictEqual(yield* get(port, "/sync"), { status: 200, body: "{\"ok\":true}", retryAfter: null })
    }))

  it.scopedLive("with the tracer off, an Effect.sync handler runs in place, once per request, without a fiber", () =>
    Effect.gen(function*() {
      const { port, probe } = yield* start({ tracer: false })
      const answers = [yield* get(port, "/counter"), yield* get(port, "/counter")]
      assert.deepStrictEqual(answers.map((a) => [a.status, JSON.parse(a.body)]), [
        [200, { n: 1, inFiber: false }],
        [200, { n: 2, inFiber: false }]
      ])
      assert.strictEqual(probe.calls.counter, 2)
    }))

  it.scopedLive("an Effect.sync handler that throws is a defect, a 500 with a JSON body, its thunk run once", () =>
    Effect.gen(function*() {
      const { port, probe } = yield* start({ tracer: false })
      const answer = yield* get(port, "/throws")
      assert.strictEqual(answer.status, 500)
      assert.strictEqual(JSON.parse(answer.body)._tag, "InternalServerError")
      assert.strictEqual(probe.calls.throws, 1)
    }))

  it.scopedLive("with a supervisor, an Effect.sync handler runs in a fiber the supervisor sees", () =>
    Effect.gen(function*() {
      const supervisor = new Started()
      const { port } = yield* start({ supervisor, tracer: false })
      const before = supervisor.fibers.length
      const answer = yield* get(port, "/counter")
      assert.deepStrictEqual(JSON.parse(answer.body), { n: 1, inFiber: true })
      assert.isAbove(supervisor.fibers.length, before)
    }))

  it.scopedLive("with the tracer on, an Effect.sync handler runs in a fiber, in its span", () =>
    Effect.gen(function*() {
      const { port } = yield* start({ tracer: true })
      assert.deepStrictEqual(JSON.parse((yield* get(port, "/counter")).body), { n: 1, inFiber: true })
    }))

  it.scopedLive("a client that hangs up interrupts a handler", () =>
    Effect.gen(function*() {
      const { port, probe } = yield* start()
      yield* hangUp(port, "/read", "GET", probe.started)
      assert.strictEqual(yield* Deferred.await(probe.ended), "interrupted")
    }))

  it.scopedLive("a client that hangs up does not cut an uninterruptible handler", () =>
    Effect.gen(function*() {
      const { port, probe } = yield* start()
      yield* hangUp(port, "/write", "POST", probe.started)
      yield* Deferred.succeed(probe.release, undefined)
      assert.strictEqual(yield* Deferred.await(probe.ended), "completed")
    }))

  it.scopedLive("onResponse sees every response, fast or standard, with its route template", () =>
    Effect.gen(function*() {
      const seen: Array<FastHttpApi.ResponseInfo> = []
      const { port } = yield* start({ onResponse: (info) => seen.push(info) })
      yield* get(port, "/async/1")
      yield* get(port, "/plain")
      yield* get(port, "/nowhere")
      yield* Effect.yieldNow()
      assert.deepStrictEqual(
        seen.map(({ durationMs: _, ...rest }) => rest),
        [
          { method: "GET", route: "/async/:n", status: 200, fast: true },
          { method: "GET", route: "/plain", status: 200, fast: false },
          { method: "GET", route: undefined, status: 404, fast: false }
        ]
      )
    }))

  it.scopedLive("an HttpApiBuilder.middleware it cannot run sends every route to the standard handler, saying why", () =>
    Effect.gen(function*() {
      const { logs, port } = yield* start({ middleware: HttpApiBuilder.middleware(HttpMiddleware.logger) })
      const line = logs.find((l) => l.includes("route(s) on the fast path"))
      assert.include(line, "0 route(s) on the fast path")
      assert.include(line, "GET /sync (an HttpApiBuilder.middleware that is not a RequestPolicy)")
      assert.deepStrictEqual(yield* get(port, "/sync"), { status: 200, body: "{\"ok\":true}", retryAfter: null })
    }))

  it.scopedLive("a policy's errorHeaders reach the answer to a contract error, on the fast and the standard path", () =>
    Effect.gen(function*() {
      const policy = RequestPolicy.layer(Api, {
        errorHeaders: (error) => error instanceof Busy ? { "retry-after": "7" } : undefined
      })
      const { logs, port } = yield* start({ middleware: policy })
      assert.include(logs.find((l) => l.includes("route(s) on the fast path")), "GET /plain-busy (its group's")
      const busy = { status: 503, body: "{\"message\":\"later\",\"_tag\":\"Busy\"}", retryAfter: "7" }
      assert.deepStrictEqual(yield* get(port, "/busy"), busy)
      assert.deepStrictEqual(yield* get(port, "/plain-busy"), busy)
      const decode = yield* get(port, "/async/abc")
      assert.strictEqual(decode.status, 400)
      assert.isNull(decode.retryAfter, "an error the policy gives no headers gets none")
    }))
})
