/**
 * Serves an Effect 3 `HttpApi` at the speed of a plain Node server, with the drain guarantees of
 * `GracefulHttp`. Same contract, same answers: the routes are the API's, the handlers are written
 * as with `HttpApiBuilder.group` (with {@link group}, which has its type), and a request is decoded,
 * handled and encoded with the endpoint's own schemas, statuses and encodings. What the fast path
 * leaves out is the per-request machinery of `HttpApiBuilder.serve` — a fiber, a Scope, context copies,
 * middleware layers and a span for every request — which is where Effect 3 spends most of the time.
 *
 * Served by the standard `HttpApiBuilder` handler instead, on the same server, decided per route once
 * at start-up and logged: routes that are not endpoints (Swagger UI, `/openapi.json`), handlers
 * written with `HttpApiBuilder.group` or `handleRaw`, `HttpApiMiddleware` (and so security), multipart
 * payloads, payloads read from the url, and every route when the API has an `HttpApiBuilder.middleware`
 * that is not a {@link RequestPolicy}. Decided per request: `HEAD`, and bodies that are not JSON.
 *
 * A handler on the fast path does not find `HttpServerRequest` or a request `Scope` in its context, and
 * its `HttpApp.appendPreResponseHandler` calls are not applied: write it with `handleRaw` if it needs
 * them.
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpMethod from "@effect/platform/HttpMethod"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import { GracefulHttp } from "@shop/lifecycle"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Layer from "effect/Layer"
import type * as Http from "node:http"
import { tagFor } from "./internal/handlers.js"
import { plan as planRoutes } from "./internal/plan.js"
import { type Matched, type Plan, runsSyncInPlace, serveFast } from "./internal/request.js"
import { errorSchemas } from "./internal/schemas.js"
import { isJsonBody, recognise } from "./RequestPolicy.js"

/**
 * `HttpApiBuilder.group`, which also leaves the handlers where the fast server finds them. The layer
 * it returns is the standard group's: the standard handler, OpenAPI and clients see no difference.
 *
 * @since 0.1.0
 */
export const group: typeof HttpApiBuilder.group =
  ((api: HttpApi.HttpApi.Any, groupName: string, build: any) =>
    Layer.suspend(() => {
      const captured: { handlers?: unknown; context?: unknown } = {}
      const standard = HttpApiBuilder.group(
        api as any,
        groupName as never,
        ((handlers: any) => {
          const built = build(handlers)
          return Effect.flatMap(
            Effect.isEffect(built) ? built : Effect.succeed(built),
            (result: any) =>
              Effect.map(Effect.context<never>(), (context) => {
                captured.handlers = result.handlers
                captured.context = context
                return result
              })
          )
        }) as never
      )
      const tag = tagFor((api as unknown as HttpApi.HttpApi.AnyWithProps).identifier, groupName)
      return Layer.flatMap(
        standard as Layer.Layer<never, unknown, unknown>,
        () => Layer.sync(tag, () => captured as any)
      )
    })) as any

/**
 * A response the server sent, fast path or not.
 *
 * @since 0.1.0
 */
export interface ResponseInfo {
  readonly method: string
  /** The route template (`/v1/orders/:id`), the path of a mounted app (`/docs`), or `undefined` when no route matched. */
  readonly route: string | undefined
  readonly status: number
  readonly durationMs: number
  /** `false` when the standard handler answered. */
  readonly fast: boolean
}

/**
 * @since 0.1.0
 */
export interface Options {
  /**
   * Called when each response is done or cut (request counting, latency histograms): a plain function,
   * nothing runs per request when it is absent.
   */
  readonly onResponse?: ((info: ResponseInfo) => void) | undefined
}

/** A server span for a fast request, as the platform's tracer middleware opens one. */
const traced = (effect: Effect.Effect<unknown, unknown>, request: Http.IncomingMessage, route: string) => {
  const url = request.url ?? "/"
  const query = url.indexOf("?")
  return Effect.useSpan(`http.server ${request.method}`, {
    kind: "server",
    parent: HttpTraceContext.fromHeaders(request.headers as never).pipe((span) =>
      span._tag === "Some" ? span.value : undefined
    ),
    captureStackTrace: false,
    attributes: {
      "http.request.method": request.method,
      "url.path": query === -1 ? url : url.slice(0, query),
      ...(query === -1 ? {} : { "url.query": url.slice(query + 1) }),
      "http.route": route,
      ...(request.headers["user-agent"] === undefined ? {} : { "user_agent.original": request.headers["user-agent"] })
    }
  }, (span) => Effect.withParentSpan(effect, span))
}

/**
 * Serves the `HttpApi` provided as `HttpApi.Api` (`HttpApiBuilder.api(Api)` with its groups) on the
 * `GracefulHttp` server, in place of `HttpApiBuilder.serve()`.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<
  never,
  never,
  GracefulHttp.GracefulHttp | HttpApi.Api | HttpRouter.HttpRouter.DefaultServices
> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const graceful = yield* GracefulHttp.GracefulHttp
    const { api, context: apiContext } = yield* HttpApi.Api
    const standard = yield* graceful.handler(yield* HttpApiBuilder.httpApp)
    const middleware = recognise(yield* (yield* HttpApiBuilder.Middleware).retrieve)
    const runtime = yield* Effect.runtime<never>()
    const routes = planRoutes({
      api: api as unknown as HttpApi.HttpApi.AnyWithProps,
      apiContext,
      standardRouter: (yield* HttpApiBuilder.Router.router) as HttpRouter.HttpRouter<unknown, unknown>,
      routerConfig: yield* FiberRef.get(HttpRouter.currentRouterConfig),
      runtime,
      middleware
    })
    const tracerOn = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentTracerEnabled)
    const shared: Plan = {
      policy: middleware._tag === "Policy" ? middleware.policy : undefined,
      errors: errorSchemas(api as unknown as HttpApi.HttpApi.AnyWithProps),
      maxBodySize: graceful.maxBodySize,
      runtime,
      syncInPlace: runsSyncInPlace(runtime, tracerOn),
      // spans only when a tracer is on: otherwise they would be pure cost
      trace: tracerOn ? traced : undefined
    }
    yield* Effect.log(
      `http: ${routes.fast.length} route(s) on the fast path; the standard handler serves ${
        routes.standard.length === 0 ? "none" : routes.standard.join(", ")
      }`
    )

    const mountOf = (url: string) => routes.mounts.find((path) => url === path || url.startsWith(path + "/"))
    /** Serves the request on the fast path or hands it to the standard handler; returns the route found. */
    const dispatch = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      const method = request.method!
      const url = request.url!
      const mount = mountOf(url)
      if (mount !== undefined) {
        standard(request, response)
        return { route: mount, fast: false }
      }
      const found = routes.router.find(method, url)
      const fast = found !== undefined && found.handler.fast && method !== "HEAD" &&
        (!HttpMethod.hasBody(method as HttpMethod.HttpMethod) || isJsonBody(method, request.headers["content-type"]))
      if (fast) serveFast(shared, found as unknown as Matched, request, response)
      else standard(request, response)
      return { route: found?.handler.path, fast }
    }

    const onResponse = options.onResponse
    const handler: GracefulHttp.NodeHandler = onResponse === undefined
      ? dispatch
      : (request, response) => {
        const started = performance.now()
        const { fast, route } = dispatch(request, response)
        response.once("close", () =>
          onResponse({
            method: request.method!,
            route,
            status: response.statusCode,
            durationMs: performance.now() - started,
            fast
          }))
      }
    yield* graceful.listen(handler)
  })).pipe(Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer])) as any
