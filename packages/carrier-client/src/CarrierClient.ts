/**
 * The carrier SDK: Promise-based bookings and a callback-based tracking-event subscription.
 * No dependencies beyond Node's built-in `fetch`.
 */
import { fromResponse } from "./CarrierError.js"
import { EventSubscription } from "./Subscription.js"
import type { EventHandler, SubscribeOptions, Subscription } from "./Subscription.js"
import { send } from "./transport.js"
import type { Booking, BookingRequest, Shipment } from "./types.js"
import * as validate from "./validate.js"

export interface CarrierClientOptions {
  /** e.g. `https://api.carrier.example` or the simulator's URL. */
  readonly baseUrl: string
  /** Deadline of one call, response body included. Long polls get `waitSeconds` on top. Default 10000. */
  readonly timeoutMs?: number
}

export interface BookOptions {
  /**
   * Required. The carrier books at most one shipment per key: use one key per order and reuse it for
   * every retry, so a retried booking (after a timeout, say) never creates a second shipment.
   */
  readonly idempotencyKey: string
  readonly signal?: AbortSignal
}

export class CarrierClient {
  readonly baseUrl: string
  readonly timeoutMs: number

  constructor(options: CarrierClientOptions) {
    const url = new URL(options.baseUrl) // throws early on a malformed URL
    this.baseUrl = url.href.replace(/\/+$/, "")
    this.timeoutMs = options.timeoutMs ?? 10_000
  }

  /**
   * Books a shipment. Resolves for a new shipment and for a replay of the same key alike.
   * Throws a `CarrierError`; when `retryable`, retry with the same `idempotencyKey`.
   */
  async book(request: BookingRequest, options: BookOptions): Promise<Booking> {
    const path = "/v1/shipments"
    const { body, status } = await send(this.baseUrl, path, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": options.idempotencyKey },
      body: JSON.stringify({ orderId: request.orderId, email: request.email, items: request.items }),
      timeoutMs: this.timeoutMs,
      signal: options.signal
    })
    if (status === 200 || status === 201) return validate.booking(body)
    throw fromResponse("POST", path, status, body)
  }

  /** Reads a shipment; a `CarrierError` with status 404 when the carrier does not know it. */
  async getShipment(shipmentId: string, options: { readonly signal?: AbortSignal } = {}): Promise<Shipment> {
    const path = `/v1/shipments/${encodeURIComponent(shipmentId)}`
    const { body, status } = await send(this.baseUrl, path, {
      method: "GET",
      timeoutMs: this.timeoutMs,
      signal: options.signal
    })
    if (status === 200) return validate.shipment(body)
    throw fromResponse("GET", path, status, body)
  }

  /**
   * Delivers tracking events to `onEvent`, one at a time and in order, starting after
   * `options.after`. A rejected callback gets the same event again after a backoff; failed polls
   * are retried the same way; both are reported to `options.onError`. Runs until `close()`.
   */
  subscribe(onEvent: EventHandler, options: SubscribeOptions = {}): Subscription {
    return new EventSubscription(
      async (after, waitSeconds, signal) => {
        const path = `/v1/events?after=${after}&wait=${waitSeconds}`
        const { body, status } = await send(this.baseUrl, path, {
          method: "GET",
          timeoutMs: waitSeconds * 1000 + this.timeoutMs,
          signal
        })
        if (status === 200) return validate.eventsPage(body)
        throw fromResponse("GET", "/v1/events", status, body)
      },
      onEvent,
      options
    )
  }
}
