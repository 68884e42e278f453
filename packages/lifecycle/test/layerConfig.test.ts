/**
 * `layerConfig` reads the variables the caller names (as `PgClient.layerConfig` does), and the
 * documented ones by default.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as BackgroundTasks from "../src/BackgroundTasks.js"
import * as GracefulHttp from "../src/GracefulHttp.js"
import * as Lifecycle from "../src/Lifecycle.js"

const withVariables = (variables: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables))))

/** Builds `layer` with `variables`; closing the returned scope shuts it down, uninterruptibly. */
const build = <A, E>(layer: Layer.Layer<A, E, Lifecycle.Lifecycle>, variables: Record<string, string>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      layer.pipe(Layer.provide(Lifecycle.layer), Layer.provide(withVariables(variables))),
      scope
    )
    return { context, close: Effect.fork(Effect.uninterruptible(Scope.close(scope, Exit.void))) }
  })

describe("layerConfig", () => {
  it.live("GracefulHttp: the caller's variable names, with the other defaults", () =>
    Effect.gen(function*() {
      const layer = GracefulHttp.layerConfig({
        ...GracefulHttp.defaultConfig,
        port: Config.integer("ADMIN_PORT"),
        host: Config.succeed("127.0.0.1"),
        maxBodySize: Config.integer("ADMIN_MAX_BODY")
      })
      const { close, context } = yield* build(layer, { ADMIN_PORT: "0", ADMIN_MAX_BODY: "123", PORT: "1" })
      const http = Context.get(context, GracefulHttp.GracefulHttp)
      assert.strictEqual(http.maxBodySize, 123)
      assert.isAbove(http.port, 1, "ADMIN_PORT=0 bound a free port; PORT was not read")
      yield* Fiber.join(yield* close)

      const missing = yield* Effect.exit(build(layer, {}))
      assert.isTrue(Exit.isFailure(missing))
      assert.include(String(Exit.isFailure(missing) ? missing.cause : ""), "ADMIN_PORT")
    }))

  it.effect("BackgroundTasks: the caller's variable bounds the wait for running tasks", () =>
    Effect.gen(function*() {
      const layer = BackgroundTasks.layerConfig({ shutdownTimeout: Config.duration("MAIL_DRAIN_TIMEOUT") })
      const { close, context } = yield* build(layer, {
        MAIL_DRAIN_TIMEOUT: "2 seconds",
        BACKGROUND_TASKS_TIMEOUT: "1 minute"
      })
      const tasks = Context.get(context, BackgroundTasks.BackgroundTasks)
      yield* tasks.run("slow", Effect.sleep("1 hour"))
      const closing = yield* close
      yield* TestClock.adjust("1999 millis")
      assert.isNull(closing.unsafePoll(), "still waiting for the task")
      yield* TestClock.adjust("1 milli")
      yield* Fiber.join(closing)
      assert.strictEqual((yield* tasks.stats).interrupted, 1)
    }))

  it.effect("BackgroundTasks: by default BACKGROUND_TASKS_TIMEOUT", () =>
    Effect.gen(function*() {
      const { close, context } = yield* build(BackgroundTasks.layerConfig(), { BACKGROUND_TASKS_TIMEOUT: "3 seconds" })
      yield* Context.get(context, BackgroundTasks.BackgroundTasks).run("slow", Effect.sleep("1 hour"))
      const closing = yield* close
      yield* TestClock.adjust("2 seconds")
      assert.isNull(closing.unsafePoll())
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
    }))
})
