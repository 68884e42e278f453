/**
 * The HTTP side: the contract's handlers, the request policy, request metrics, and the server —
 * `@shop/fast-httpapi` by default, or the standard `HttpApiBuilder.serve` (`HTTP_SERVER=standard`),
 * both on GracefulHttp and answering alike (the differential suite in test/ proves it).
 */
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { ShopApi } from "@shop/domain/Api"
import { NotReady } from "@shop/domain/Errors"
import { FastHttpApi, RequestMetrics } from "@shop/fast-httpapi"
import { GracefulHttp, Lifecycle } from "@shop/lifecycle"
import { Prometheus } from "@shop/telemetry"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Docs from "./Docs.js"
import { RequestPolicyLive } from "./HttpErrors.js"
import { Orders } from "./Orders.js"
import { Users } from "./Users.js"

const UsersLive = FastHttpApi.group(ShopApi, "users", (handlers) =>
  Effect.map(Users, (users) =>
    // uninterruptible: a client that hangs up cannot cut the sign-up transaction in half
    handlers.handle("create", ({ payload }) => users.create(payload), { uninterruptible: true })))

const OrdersLive = FastHttpApi.group(ShopApi, "orders", (handlers) =>
  Effect.map(Orders, (orders) =>
    handlers
      .handle("create", ({ headers, payload }) => orders.create(payload, headers["idempotency-key"]), {
        uninterruptible: true
      })
      .handle("pay", ({ path }) => orders.transition(path.id, "paid"), { uninterruptible: true })
      .handle("cancel", ({ path }) => orders.transition(path.id, "cancelled"), { uninterruptible: true })
      .handle("get", ({ path }) => orders.get(path.id))
      .handle("retryBooking", ({ path }) => orders.retryBooking(path.id), { uninterruptible: true })
      .handle("list", ({ urlParams }) => orders.list(urlParams))))

const OpsLive = FastHttpApi.group(ShopApi, "ops", (handlers) =>
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle.Lifecycle
    const prometheus = yield* Prometheus.Prometheus
    return handlers
      .handle("health", () => Effect.succeed({ status: "ok" as const }))
      .handle("ready", () =>
        Effect.flatMap(lifecycle.readiness, (readiness) =>
          readiness.ready
            ? Effect.succeed({ status: "ready" as const, phase: readiness.phase, checks: readiness.checks })
            : Effect.fail(new NotReady({ phase: readiness.phase, checks: readiness.checks }))))
      .handle("metrics", () => prometheus.render)
  })).pipe(Layer.provide(Prometheus.layerFromEnv("shop")))

const routes = [
  /^\/v1\/users$/,
  /^\/v1\/orders$/,
  /^\/v1\/orders\/:id$/,
  /^\/v1\/orders\/:id\/(pay|cancel|retry-booking)$/,
  /^\/(healthz|readyz|metrics|openapi\.json)$/,
  /^\/docs/
]
/** The route template, so hostile URLs cannot blow up the metric's cardinality. */
const routeOf = (url: string) => {
  const path = url.split("?")[0].replace(/\/\d+(?=\/|$)/g, "/:id")
  return routes.some((route) => route.test(path)) ? path.startsWith("/docs") ? "/docs" : path : undefined
}

/** Times requests on the standard server, where the platform's pipeline gives each one a fiber anyway. */
const timingMiddleware = (app: HttpApp.Default) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const started = performance.now()
    const record = (status: number) =>
      Effect.sync(() =>
        RequestMetrics.record({
          method: request.method,
          route: routeOf(request.url),
          status,
          durationMs: performance.now() - started,
          fast: false
        })
      )
    return yield* app.pipe(
      Effect.onExit((exit) =>
        Exit.isSuccess(exit)
          ? record(exit.value.status)
          // the status the platform answers this failure with (404 for an unknown route, …)
          : Effect.flatMap(HttpServerError.causeResponse(exit.cause), ([response]) => record(response.status))
      )
    )
  })

export const ApiLive = HttpApiBuilder.api(ShopApi).pipe(
  Layer.provide([UsersLive, OrdersLive, OpsLive]),
  Layer.provide(RequestPolicyLive)
)

/** Times requests on the fast server: its response hook is a plain call, no fiber per request. */
const FastServeLive = FastHttpApi.layer({ onResponse: RequestMetrics.record })

/** `HTTP_SERVER`: `fast` (default) or `standard`. */
const ServeLive = Layer.unwrapEffect(
  Effect.map(
    Config.literal("fast", "standard")("HTTP_SERVER").pipe(Config.withDefault("fast")),
    (server): Layer.Layer<
      never,
      never,
      HttpApi.Api | HttpRouter.HttpRouter.DefaultServices | GracefulHttp.GracefulHttp | HttpServer.HttpServer
    > => server === "fast" ? FastServeLive : HttpApiBuilder.serve(timingMiddleware)
  ).pipe(Effect.orDie)
)

/**
 * Serves the API on GracefulHttp (PORT, SHUTDOWN_DELAY, HTTP_DRAIN_TIMEOUT, HTTP_MAX_BODY_SIZE, HTTP_SERVER).
 * GracefulHttp is built first and its drain runs in the serve layer's finalizer, so in-flight
 * requests finish while the handlers' services are all still there.
 */
export const HttpLive = ServeLive.pipe(
  HttpServer.withLogAddress,
  Layer.provide(Docs.layer("/docs")),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
  Layer.provide(ApiLive),
  Layer.provideMerge(GracefulHttp.layerConfig())
)
