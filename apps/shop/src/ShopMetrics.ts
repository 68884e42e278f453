/**
 * The shop's own metrics, as `effect/Metric` values updated where things happen. The lifecycle
 * components report theirs (`LifecycleMetrics`: ticks, pools, background tasks, HTTP connections,
 * shutdown phases and steps), the HTTP server its request durations (`RequestMetrics`); `/metrics`
 * exposes all of them (`@shop/telemetry`'s `Prometheus`). Durations and lags are in seconds (names ending
 * in `.duration` / `.lag`, the convention the exposition reads units from).
 */
import { LifecycleMetrics } from "@shop/lifecycle"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })

export const ordersCreated = counter("shop.orders.created", "Orders created")

/** By `from` and `to` status. */
export const orderTransitions = counter("shop.order.transitions", "Order status transitions made through the API")
export const transitionLabels = LifecycleMetrics.labelSets(["from", "to"])

export const bookingRetries = counter("shop.carrier.booking_retries", "Failed bookings retried by an operator")

/** By `outcome`: `shipped`, `retry`, `failed`, `lease_lost`, `released`. */
export const carrierBookings = counter("shop.carrier.bookings", "Carrier bookings by outcome")

/** One carrier call and the storing of its answer, by `outcome`. */
export const carrierBookingDuration = Metric.histogram(
  "shop.carrier.booking.duration",
  LifecycleMetrics.durationBoundaries,
  "Duration of carrier bookings (the call and storing its outcome), in seconds"
)

export const fulfillmentTransitions = counter("shop.fulfillment.transitions", "Order transitions made by fulfillment")

/** Orders one committed fulfillment tick moved (its duration is `lifecycle.worker.tick.duration`). */
export const fulfillmentOrdersMoved = Metric.histogram(
  "shop.fulfillment.orders_moved",
  MetricBoundaries.fromIterable([0, 1, 5, 10, 25, 50, 100, 250, 500, 1000]),
  "Orders moved by each committed fulfillment tick"
)

/** By `outcome`: `sent`, `failed`. */
export const emails = counter("shop.emails", "E-mails by outcome")

export const outboxLag = Metric.gauge("shop.outbox.lag", {
  description: "Age of the oldest e-mail not sent yet, in seconds (0 when none waits), read at each sweep"
})

/** By event `type`. */
export const trackingEvents = counter("shop.tracking.events", "Tracking events processed")

export const trackingFeedLag = Metric.gauge("shop.tracking.feed.lag", {
  description: "Age of the last tracking event processed when it was processed, in seconds"
})

export const outcomeLabels = LifecycleMetrics.labelsBy({}, "outcome")
export const typeLabels = LifecycleMetrics.labelsBy({}, "type")
export const noLabels: ReadonlyArray<never> = []
