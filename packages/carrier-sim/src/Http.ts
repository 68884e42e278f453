/**
 * The simulator's HTTP side: handlers for the contract, JSON bodies for every error, and the
 * draining server from `@shop/lifecycle`.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
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

const ApiLive = HttpApiBuilder.api(CarrierApi).pipe(Layer.provide([ShipmentsLive, EventsLive, OpsLive]))

/** Serves the API (plus `/healthz`, `/readyz`) on a `GracefulHttp` server. */
export const HttpLive = (settings: Settings) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(ApiLive),
    Layer.provide(Health.layerHttpApi),
    Layer.provideMerge(GracefulHttp.layer({
      port: settings.port,
      host: settings.host,
      drainTimeout: settings.drainTimeout,
      idleGrace: settings.idleGrace
    }))
  )
