/** Checks that 2xx bodies have the documented shape, so callers never get half-parsed data. */
import { CarrierError } from "./CarrierError.js"
import type { Booking, EventsPage, Shipment, TrackingEvent } from "./types.js"

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null
const isString = (u: unknown): u is string => typeof u === "string"
const isInt = (u: unknown): u is number => Number.isSafeInteger(u)

const invalid = (what: string, body: unknown) =>
  new CarrierError(`the carrier answered with an invalid ${what}`, { code: "INVALID_RESPONSE", retryable: false, body })

export const booking = (body: unknown): Booking => {
  if (isObject(body) && isString(body.shipmentId) && isString(body.trackingNumber)) {
    return { shipmentId: body.shipmentId, trackingNumber: body.trackingNumber }
  }
  throw invalid("booking", body)
}

export const shipment = (body: unknown): Shipment => {
  if (
    isObject(body) && isString(body.shipmentId) && isString(body.trackingNumber) && isInt(body.orderId) &&
    isString(body.email) && Array.isArray(body.items) && isString(body.status) && isString(body.bookedAt)
  ) {
    return body as unknown as Shipment
  }
  throw invalid("shipment", body)
}

const isEvent = (u: unknown): u is TrackingEvent =>
  isObject(u) && isInt(u.seq) && isString(u.shipmentId) && isString(u.trackingNumber) && isInt(u.orderId) &&
  (u.type === "in_transit" || u.type === "delivered") && isString(u.at)

export const eventsPage = (body: unknown): EventsPage => {
  if (isObject(body) && Array.isArray(body.events) && body.events.every(isEvent) && isInt(body.cursor)) {
    return { events: body.events, cursor: body.cursor }
  }
  throw invalid("events page", body)
}
