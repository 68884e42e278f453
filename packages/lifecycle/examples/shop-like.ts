/**
 * Every @shop/lifecycle piece in one small service. Run it, call /slow, press Ctrl-C, read the log:
 *
 *   pnpm example                  # from the repository root; PORT=8080 by default
 *   curl localhost:8080/slow &    # a 3 s request that also starts a 2 s background task
 *   kill -TERM <pid>  (or Ctrl-C)
 *
 * Build order (released in reverse): Lifecycle (by Launch) → BackgroundTasks → worker → pool →
 * HTTP server → serve. Each `Layer.provide` below is one step of that chain; nothing is merged,
 * because merged layers are released in parallel.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as BackgroundTasks from "../src/BackgroundTasks.js"
import * as GracefulHttp from "../src/GracefulHttp.js"
import * as Health from "../src/Health.js"
import * as Launch from "../src/Launch.js"
import { Lifecycle } from "../src/Lifecycle.js"
import * as PeriodicWorker from "../src/PeriodicWorker.js"
import * as WorkerPool from "../src/WorkerPool.js"

/** A pool of "label printers": each job takes 500 ms. */
class Printers extends Context.Tag("example/Printers")<Printers, WorkerPool.WorkerPool<number>>() {
  static readonly layer = Layer.scoped(
    Printers,
    WorkerPool.make({
      name: "printers",
      concurrency: 2,
      capacity: 10,
      process: (label: number) =>
        Effect.sleep("500 millis").pipe(Effect.zipRight(Effect.log(`printed label ${label}`))),
      onShutdown: "release",
      onRelease: (labels) => Effect.log(`returned labels ${labels.join(", ")} to the database`),
      describe: (label) => `label ${label}`
    })
  )
}

/** Every second: a 300 ms "transaction" that feeds the printers. */
const FulfillmentLive = Layer.unwrapEffect(Effect.gen(function*() {
  const printers = yield* Printers
  let next = 0
  return PeriodicWorker.layer({
    name: "fulfillment",
    interval: "1 second",
    tickTimeout: "5 seconds",
    tick: Effect.gen(function*() {
      yield* Effect.sleep("300 millis")
      yield* Effect.forEach([++next, ++next], (label) => printers.offer(label))
    })
  })
}))

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/slow",
    Effect.gen(function*() {
      const tasks = yield* BackgroundTasks.BackgroundTasks
      yield* tasks.run("welcome-email", Effect.sleep("2 seconds").pipe(Effect.zipRight(Effect.log("email sent"))))
      yield* Effect.sleep("3 seconds")
      return HttpServerResponse.text("slow done\n")
    })
  ),
  HttpRouter.get("/healthz", Health.healthz),
  HttpRouter.get("/readyz", Health.readyz)
)

const HttpLive = HttpServer.serve(router).pipe(
  HttpServer.withLogAddress,
  Layer.provide(GracefulHttp.layerConfig())
)

const MainLive = HttpLive.pipe(
  Layer.provide(FulfillmentLive),
  Layer.provide(Printers.layer),
  Layer.provide(BackgroundTasks.layer({ shutdownTimeout: "10 seconds" }))
)

// Launch builds the Lifecycle and provides it: the only requirement MainLive may have left.
Launch.runMain(MainLive satisfies Layer.Layer<never, unknown, Lifecycle>, {
  shutdownTimeout: Config.duration("SHUTDOWN_TIMEOUT").pipe(Config.withDefault(Duration.seconds(25)))
})
