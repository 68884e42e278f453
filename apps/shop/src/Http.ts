/**
 * The HTTP side: the contract's handlers, JSON error bodies, request metrics, and the server.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { ShopApi } from "@shop/domain/Api"
import { NotReady } from "@shop/domain/Errors"
import { GracefulHttp, Lifecycle } from "@shop/lifecycle"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { MalformedJsonLive } from "./HttpErrors.js"
import { Metrics } from "./Metrics.js"
import { Orders } from "./Orders.js"
import { Users } from "./Users.js"

const UsersLive = HttpApiBuilder.group(ShopApi, "users", (handlers) =>
  Effect.map(Users, (users) =>
    // uninterruptible: a client that hangs up cannot cut the sign-up transaction in half
    handlers.handle("create", ({ payload }) => users.create(payload), { uninterruptible: true })))

const OrdersLive = HttpApiBuilder.group(ShopApi, "orders", (handlers) =>
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

const OpsLive = HttpApiBuilder.group(ShopApi, "ops", (handlers) =>
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

const serveMiddleware = (app: HttpApp.Default) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const request = yield* HttpServerRequest.HttpServerRequest
    const count = (status: number) =>
      metrics.increment("shop_http_requests_total", "HTTP requests by route and status", {
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
  Layer.provide(MalformedJsonLive)
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

/** Serves the API on GracefulHttp (PORT, SHUTDOWN_DELAY, HTTP_DRAIN_TIMEOUT, HTTP_MAX_BODY_SIZE). */
export const HttpLive = HttpApiBuilder.serve(serveMiddleware).pipe(
  HttpServer.withLogAddress,
  Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
  Layer.provide(ApiLive),
  Layer.provide(HttpMetricsLive),
  Layer.provideMerge(GracefulHttp.layerConfig)
)
