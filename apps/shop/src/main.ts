/**
 * The process entry point: `node apps/shop/dist/main.js`. Run it directly (PID 1 in a container),
 * not through a package-manager wrapper, so SIGTERM reaches Node.
 */
import "./v8Flags.js" // first: before anything compiles WebAssembly
import { Launch } from "@shop/lifecycle"
import { Otlp } from "@shop/telemetry"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { ShopLive } from "./ShopLive.js"

/** `LOG_FORMAT` (`pretty` | `json`), `LOG_LEVEL` (`all` … `off`, default `info`). */
const LoggerLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const format = yield* Config.literal("pretty", "json")("LOG_FORMAT").pipe(Config.withDefault("pretty"))
    const level = yield* Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
    return Layer.mergeAll(format === "json" ? Logger.json : Logger.pretty, Logger.minimumLogLevel(level))
  }).pipe(Effect.orDie)
)

Launch.runMain(ShopLive.pipe(Layer.discard), {
  shutdownTimeout: Config.duration("SHUTDOWN_TIMEOUT").pipe(Config.withDefault(Duration.seconds(25))),
  logger: LoggerLive,
  // OTEL_EXPORTER_OTLP_ENDPOINT and the other OpenTelemetry variables; unset, tracing is off
  observability: Otlp.layerFromEnv("shop")
})
