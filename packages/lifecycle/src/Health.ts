/**
 * `/healthz` and `/readyz` for orchestrators and load balancers.
 *
 * - `/healthz` answers 200 while the process lives: a failing liveness probe restarts the process,
 *   so it must not depend on the database or on shutdown.
 * - `/readyz` answers 503 while draining or when a registered check fails, so load balancers stop
 *   routing here before the listener closes (see `GracefulHttp`'s `preStopDelay`).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { Lifecycle } from "./Lifecycle.js"

/**
 * @since 0.1.0
 */
export const healthz: Effect.Effect<HttpServerResponse.HttpServerResponse> = Effect.succeed(
  HttpServerResponse.unsafeJson({ status: "ok" })
)

/**
 * @since 0.1.0
 */
export const readyz: Effect.Effect<HttpServerResponse.HttpServerResponse, never, Lifecycle> = Effect.gen(function*() {
  const lifecycle = yield* Lifecycle
  const readiness = yield* lifecycle.readiness
  return HttpServerResponse.unsafeJson(
    { status: readiness.ready ? "ready" : "not ready", phase: readiness.phase, checks: readiness.checks },
    { status: readiness.ready ? 200 : 503 }
  )
})

/**
 * Adds `GET /healthz` and `GET /readyz` to an `HttpApiBuilder` application, for APIs that do not
 * declare them in their `HttpApi`.
 *
 * @since 0.1.0
 */
export const layerHttpApi: Layer.Layer<never, never, Lifecycle> = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    yield* router.get("/healthz", healthz)
    yield* router.get("/readyz", Effect.provideService(readyz, Lifecycle, lifecycle))
  })
)
