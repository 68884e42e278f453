/**
 * The items API (ItemsApi) on Effect: `node dist/items/ItemsEffect.js` with `ITEMS_SERVER=fast` (the
 * default: `@shop/fast-httpapi`) or `standard` (`HttpApiBuilder.serve`), on GracefulHttp under
 * `Launch.runMain` as the shop runs, warnings only, recording `http.server.request.duration` as the
 * shop does. `TRACING=true` turns Effect's tracer on (its default; the shop's is off, as here);
 * `OTEL_EXPORTER_OTLP_ENDPOINT` exports the spans over OTLP, as the shop's `Telemetry` layer does.
 */
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import { FastHttpApi, RequestMetrics } from "@shop/fast-httpapi"
import { GracefulHttp, Launch } from "@shop/lifecycle"
import { Otlp } from "@shop/telemetry"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { catalogueSize, creator, ItemNotFound, itemOf, ItemsApi } from "./ItemsApi.js"

const ItemsLive = FastHttpApi.group(ItemsApi, "items", (handlers) => {
  const create = creator()
  return handlers
    .handle(
      "get",
      ({ path }) =>
        path.id <= catalogueSize ? Effect.succeed(itemOf(path.id)) : Effect.fail(new ItemNotFound({ id: path.id }))
    )
    .handle("create", ({ payload }) => Effect.sync(() => create(payload)))
    .handle("ready", () => Effect.succeed({ status: "ready" as const }))
})

const ServeLive = Layer.unwrapEffect(
  Effect.map(
    Config.literal("fast", "standard")("ITEMS_SERVER").pipe(Config.withDefault("fast")),
    (server): Layer.Layer<
      never,
      never,
      HttpApi.Api | HttpRouter.HttpRouter.DefaultServices | GracefulHttp.GracefulHttp | HttpServer.HttpServer
    > => server === "fast" ? FastHttpApi.layer({ onResponse: RequestMetrics.record }) : HttpApiBuilder.serve()
  ).pipe(Effect.orDie)
)

const LoggerLive = Layer.mergeAll(Logger.pretty, Logger.minimumLogLevel(LogLevel.Warning))

/** The shop's OTLP layer when an endpoint is set; otherwise the tracer as `TRACING` says. */
const TracingLive = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      endpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT")),
      tracing: Config.boolean("TRACING").pipe(Config.withDefault(false))
    }),
    ({ endpoint, tracing }) => Option.isSome(endpoint) ? Otlp.layerFromEnv("items") : Layer.setTracerEnabled(tracing)
  ).pipe(Effect.orDie)
)

Launch.runMain(
  ServeLive.pipe(
    Layer.provide(HttpApiBuilder.api(ItemsApi).pipe(Layer.provide(ItemsLive))),
    Layer.provide(GracefulHttp.layerConfig())
  ),
  { logger: LoggerLive, observability: TracingLive }
)
