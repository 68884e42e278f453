/**
 * The simulator's HTTP side: handlers for the contract, JSON bodies for every error, and the
 * draining server from `@shop/lifecycle`.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { GracefulHttp, Health } from "@shop/lifecycle"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CarrierApi } from "./Api.js"
import { EventFeed } from "./EventFeed.js"
import type { Settings } from "./Settings.js"
import { Shipments } from "./Shipments.js"

const ShipmentsLive = HttpApiBuilder.group(
  CarrierApi,
  "shipments",
  (handlers) =>
    Effect.map(Shipments, (shipments) =>
      handlers
        // A client that hangs up does not cancel the booking, as with a real carrier: the retry with
        // the same key then finds the shipment.
        .handle("book", ({ headers, payload }) => shipments.book(headers["idempotency-key"], payload), {
          uninterruptible: true
        })
        .handle("get", ({ path }) => shipments.get(path.id)))
)

const EventsLive = HttpApiBuilder.group(
  CarrierApi,
  "events",
  (handlers) =>
    Effect.map(EventFeed, (feed) =>
      handlers.handle("poll", ({ urlParams }) =>
        feed.poll({
          after: urlParams.after ?? 0,
          wait: Duration.seconds(urlParams.wait ?? 0),
          limit: urlParams.limit ?? 100
        })))
)

const OpsLive = HttpApiBuilder.group(
  CarrierApi,
  "ops",
  (handlers) => Effect.map(Shipments, (shipments) => handlers.handle("stats", () => shipments.stats))
)

const describe = (status: number, request: HttpServerRequest.HttpServerRequest) => {
  const path = request.url.split("?")[0]
  switch (status) {
    case 400:
      return { _tag: "BadRequest", message: "the request could not be read (is the body JSON?)" }
    case 404:
      return { _tag: "NotFound", message: `no route for ${request.method} ${path}` }
    case 503:
      return { _tag: "ServiceUnavailable", message: "the simulator is shutting down; retry" }
    default:
      return { _tag: "HttpError", message: `request failed with status ${status}` }
  }
}

/** The platform answers unknown routes, unreadable JSON and defects with empty bodies. */
const jsonErrorBodies: HttpApp.PreResponseHandler = (request, response) =>
  Effect.succeed(
    response.status >= 400 && response.body._tag === "Empty"
      ? HttpServerResponse.unsafeJson(describe(response.status, request), {
        status: response.status,
        headers: response.headers
      })
      : response
  )

const ApiLive = HttpApiBuilder.api(CarrierApi).pipe(Layer.provide([ShipmentsLive, EventsLive, OpsLive]))

/** Serves the API (plus `/healthz`, `/readyz`) on a `GracefulHttp` server. */
export const HttpLive = (settings: Settings) =>
  HttpApiBuilder.serve((app) => Effect.zipRight(HttpApp.appendPreResponseHandler(jsonErrorBodies), app)).pipe(
    Layer.provide(ApiLive),
    Layer.provide(Health.layerHttpApi),
    Layer.provideMerge(GracefulHttp.layer({
      port: settings.port,
      host: settings.host,
      drainTimeout: settings.drainTimeout
    }))
  )
