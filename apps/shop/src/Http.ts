/**
 * The HTTP side: the contract's handlers, the request policy, request metrics, and the server —
 * `@shop/fast-httpapi` by default, or the standard `HttpApiBuilder.serve` (`HTTP_SERVER=standard`),
 * both on GracefulHttp and answering alike (the differential suite in test/ proves it).
 */
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { ShopApi } from "@shop/domain/Api"
import { NotReady } from "@shop/domain/Errors"
import { FastHttpApi } from "@shop/fast-httpapi"
import { GracefulHttp, Lifecycle } from "@shop/lifecycle"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { RequestPolicyLive } from "./HttpErrors.js"
import { Metrics } from "./Metrics.js"
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
    const metrics = yield* Metrics
    return handlers
      .handle("health", () => Effect.succeed({ status: "ok" as const }))
      .handle("ready", () =>
        Effect.flatMap(lifecycle.readiness, (readiness) =>
          readiness.ready
            ? Effect.succeed({ status: "ready" as const, phase: readiness.phase, checks: readiness.checks })
            : Effect.fail(new NotReady({ phase: readiness.phase, checks: readiness.checks }))))
      .handle("metrics", () => metrics.render)
  }))

const requestsTotal = ["shop_http_requests_total", "HTTP requests by route and status"] as const

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
  return routes.some((route) => route.test(path)) ? path.startsWith("/docs") ? "/docs" : path : "unmatched"
}

/** Counts requests on the standard server, where the platform's pipeline gives each one a fiber anyway. */
const countingMiddleware = (app: HttpApp.Default) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const request = yield* HttpServerRequest.HttpServerRequest
    const count = (status: number) =>
      metrics.increment(...requestsTotal, {
        method: request.method,
        route: routeOf(request.url),
        status: String(status)
      })
    return yield* app.pipe(
      Effect.onExit((exit) =>
        Exit.isSuccess(exit)
          ? count(exit.value.status)
          // the status the platform answers this failure with (404 for an unknown route, …)
          : Effect.flatMap(HttpServerError.causeResponse(exit.cause), ([response]) => count(response.status))
      )
    )
  })

export const ApiLive = HttpApiBuilder.api(ShopApi).pipe(
  Layer.provide([UsersLive, OrdersLive, OpsLive]),
  Layer.provide(RequestPolicyLive)
)

/** Counts requests on the fast server: its response hook is a plain call, no fiber per request. */
const FastServeLive = Layer.unwrapEffect(Effect.map(Metrics, (metrics) =>
  FastHttpApi.layer({
    onResponse: ({ method, route, status }) =>
      metrics.unsafeIncrement(...requestsTotal, {
        method,
        route: route === undefined ? "unmatched" : route.startsWith("/docs") ? "/docs" : route,
        status: String(status)
      })
  })))

/** `HTTP_SERVER`: `fast` (default) or `standard`. */
const ServeLive = Layer.unwrapEffect(
  Effect.map(
    Config.literal("fast", "standard")("HTTP_SERVER").pipe(Config.withDefault("fast")),
    (server): Layer.Layer<
      never,
      never,
      Metrics | HttpApi.Api | HttpRouter.HttpRouter.DefaultServices | GracefulHttp.GracefulHttp | HttpServer.HttpServer
    > => server === "fast" ? FastServeLive : HttpApiBuilder.serve(countingMiddleware)
  ).pipe(Effect.orDie)
)

/** Registers the HTTP gauges (in-flight, connections) read at scrape time. */
const HttpMetricsLive = Layer.effectDiscard(Effect.gen(function*() {
  const metrics = yield* Metrics
  const http = yield* GracefulHttp.GracefulHttp
  yield* metrics.addCollector(Effect.map(http.stats, (stats) => [
    { name: "shop_http_requests_in_flight", help: "HTTP requests being served", type: "gauge", value: stats.inFlight },
    { name: "shop_http_connections", help: "Open HTTP connections", type: "gauge", value: stats.connections }
  ]))
}))

/** Serves the API on GracefulHttp (PORT, SHUTDOWN_DELAY, HTTP_DRAIN_TIMEOUT, HTTP_MAX_BODY_SIZE, HTTP_SERVER). */
export const HttpLive = ServeLive.pipe(
  HttpServer.withLogAddress,
  Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
  Layer.provide(ApiLive),
  Layer.provide(HttpMetricsLive),
  Layer.provideMerge(GracefulHttp.layerConfig)
)
