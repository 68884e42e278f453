/**
 * A carrier SDK shaped like a third-party library: plain Promises and callbacks, no dependencies.
 */
export { CarrierClient } from "./CarrierClient.js"
export type { BookOptions, CarrierClientOptions } from "./CarrierClient.js"
export { CarrierError, isCarrierError, isRetryableStatus } from "./CarrierError.js"
export type { CarrierErrorCode, CarrierErrorOptions } from "./CarrierError.js"
export type {
  EventContext,
  EventHandler,
  SubscribeOptions,
  Subscription,
  SubscriptionErrorInfo
} from "./Subscription.js"
export type {
  Booking,
  BookingRequest,
  EventsPage,
  Shipment,
  ShipmentItem,
  ShipmentStatus,
  TrackingEvent,
  TrackingEventType
} from "./types.js"
