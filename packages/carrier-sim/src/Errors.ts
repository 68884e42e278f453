/**
 * Errors the simulator puts on the wire, each with its status and a `message` that says what to do.
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"

export class MissingIdempotencyKey extends Schema.TaggedError<MissingIdempotencyKey>()("MissingIdempotencyKey", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400, description: "The Idempotency-Key header is required" })) {
  constructor(props: { readonly message?: string } = {}, options?: Schema.MakeOptions) {
    super({ message: props.message ?? "the Idempotency-Key header is required on POST /v1/shipments" }, options)
  }
}

/** The key was first used with another request body: a client bug, never retried. */
export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>()("IdempotencyConflict", {
  key: Schema.String,
  shipmentId: Schema.String,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 422, description: "The idempotency key was used for another request" })) {
  constructor(props: { readonly key: string; readonly shipmentId: string }, options?: Schema.MakeOptions) {
    super({
      ...props,
      message: `idempotency key "${props.key}" already booked ${props.shipmentId} for a different request body`
    }, options)
  }
}

/** The simulated outage: nothing was booked, the same request may be retried. */
export class CarrierUnavailable extends Schema.TaggedError<CarrierUnavailable>()("CarrierUnavailable", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503, description: "Temporarily unavailable; nothing was booked" })) {
  constructor(props: { readonly message?: string } = {}, options?: Schema.MakeOptions) {
    super({ message: props.message ?? "the carrier is temporarily unavailable; nothing was booked, retry" }, options)
  }
}

export class ShipmentNotFound extends Schema.TaggedError<ShipmentNotFound>()("ShipmentNotFound", {
  shipmentId: Schema.String,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404, description: "No shipment has this id" })) {
  constructor(props: { readonly shipmentId: string }, options?: Schema.MakeOptions) {
    super({ ...props, message: `shipment ${props.shipmentId} does not exist` }, options)
  }
}
