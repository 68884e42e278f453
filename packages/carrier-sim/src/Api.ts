/**
 * The simulated carrier's HTTP contract. Every error answers with a JSON body `{_tag, message, …}`;
 * decode failures of path, query, headers or body are `HttpApiDecodeError` (400).
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import { CarrierUnavailable, IdempotencyConflict, MissingIdempotencyKey, ShipmentNotFound } from "./Errors.js"

export const ShipmentItem = Schema.Struct({
  sku: Schema.String.pipe(Schema.minLength(1)),
  quantity: Schema.Int.pipe(Schema.positive())
})

export const BookShipment = Schema.Struct({
  orderId: Schema.Int.pipe(Schema.positive()),
  email: Schema.String.pipe(Schema.minLength(1)),
  items: Schema.Array(ShipmentItem).pipe(Schema.minItems(1))
})
export type BookShipment = typeof BookShipment.Type

/**
 * Node lowercases header names. Optional in the schema so that a missing key is a
 * `MissingIdempotencyKey` saying what to send, not a generic decode error.
 */
export const BookingHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(Schema.String.pipe(Schema.maxLength(255)))
})

const bookingFields = { shipmentId: Schema.String, trackingNumber: Schema.String }

/** A new shipment (201). */
export class ShipmentBooked extends Schema.Class<ShipmentBooked>("ShipmentBooked")(bookingFields) {}

/** The shipment an earlier request with the same `Idempotency-Key` created (200). */
export class ShipmentReplayed extends Schema.Class<ShipmentReplayed>("ShipmentReplayed")(bookingFields) {}

/**
 * Both answers have one wire shape, and a class schema encodes any object of that shape, so the
 * first member of the success union would always win. Accepting only their own instances lets the
 * handler pick the status by the class it returns.
 */
const BookedResponse = ShipmentBooked.pipe(Schema.filter((u) => u instanceof ShipmentBooked))
const ReplayedResponse = ShipmentReplayed.pipe(Schema.filter((u) => u instanceof ShipmentReplayed))

export const ShipmentStatus = Schema.Literal("booked", "in_transit", "delivered")
export type ShipmentStatus = typeof ShipmentStatus.Type

export const Shipment = Schema.Struct({
  shipmentId: Schema.String,
  trackingNumber: Schema.String,
  orderId: Schema.Int,
  email: Schema.String,
  items: Schema.Array(ShipmentItem),
  status: ShipmentStatus,
  bookedAt: Schema.String
})
export type Shipment = typeof Shipment.Type

export const TrackingEventType = Schema.Literal("in_transit", "delivered")

export const TrackingEvent = Schema.Struct({
  seq: Schema.Int,
  shipmentId: Schema.String,
  trackingNumber: Schema.String,
  orderId: Schema.Int,
  type: TrackingEventType,
  at: Schema.String
})
export type TrackingEvent = typeof TrackingEvent.Type

/** `cursor` is the `seq` of the last event returned, or the (effective) `after` when there is none. */
export const EventsPage = Schema.Struct({ events: Schema.Array(TrackingEvent), cursor: Schema.Int })
export type EventsPage = typeof EventsPage.Type

const NonNegativeFromString = Schema.NumberFromString.pipe(Schema.nonNegative())

export const EventsParams = Schema.Struct({
  after: Schema.optional(NonNegativeFromString.pipe(Schema.int())),
  wait: Schema.optional(NonNegativeFromString),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)))
})

export const Stats = Schema.Struct({
  shipments: Schema.Int,
  events: Schema.Int,
  /** Shipments created per idempotency key: every value must be 1. */
  bookingsByKey: Schema.Record({ key: Schema.String, value: Schema.Int }),
  /** `POST /v1/shipments` by outcome. */
  requests: Schema.Struct({
    /** Being answered right now (inside the latency). */
    pending: Schema.Int,
    booked: Schema.Int,
    replayed: Schema.Int,
    failed: Schema.Int,
    rejected: Schema.Int
  }),
  polls: Schema.Struct({ waiting: Schema.Int, answered: Schema.Int }),
  failureRate: Schema.Number
})
export type Stats = typeof Stats.Type

export class ShipmentsGroup extends HttpApiGroup.make("shipments")
  .add(
    HttpApiEndpoint.post("book", "/v1/shipments")
      .setPayload(BookShipment)
      .setHeaders(BookingHeaders)
      .addSuccess(BookedResponse, { status: 201 })
      .addSuccess(ReplayedResponse)
      .addError(MissingIdempotencyKey)
      .addError(IdempotencyConflict)
      .addError(CarrierUnavailable)
      .annotate(OpenApi.Summary, "Book a shipment")
      .annotate(
        OpenApi.Description,
        "Requires `Idempotency-Key`. 201 creates the shipment; the same key again returns it with 200 " +
          "(also for concurrent duplicates); the same key with another body is 422. A configured fraction of " +
          "requests answer 503 after the latency without booking anything."
      )
  )
  .add(
    HttpApiEndpoint.get("get", "/v1/shipments/:id")
      .setPath(Schema.Struct({ id: Schema.String }))
      .addSuccess(Shipment)
      .addError(ShipmentNotFound)
      .annotate(OpenApi.Summary, "Read a shipment")
  )
{}

export class EventsGroup extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.get("poll", "/v1/events")
      .setUrlParams(EventsParams)
      .addSuccess(EventsPage)
      .annotate(OpenApi.Summary, "Long-poll tracking events")
      .annotate(
        OpenApi.Description,
        "Events with `seq > after` (default 0), at most `limit` (100). With none, waits up to `wait` seconds " +
          "(default 0, at most 30) for one, then answers an empty list. A cursor beyond the feed's head (the " +
          "simulator restarted: it keeps nothing) is read as 0."
      )
  )
{}

export class OpsGroup extends HttpApiGroup.make("ops")
  .add(HttpApiEndpoint.get("stats", "/v1/stats").addSuccess(Stats).annotate(OpenApi.Summary, "Counters for tests"))
{}

export class CarrierApi extends HttpApi.make("carrier")
  .add(ShipmentsGroup)
  .add(EventsGroup)
  .add(OpsGroup)
  .annotateContext(OpenApi.annotations({ title: "Carrier simulator", version: "0.1.0" }))
{}
