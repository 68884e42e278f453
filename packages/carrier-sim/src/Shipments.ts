/**
 * Bookings: slow, sometimes failing, idempotent by key. Each shipment then emits `in_transit` and
 * `delivered` to the feed on its own schedule. All state is in memory and dies with the process.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import { randomBytes } from "node:crypto"
import type { BookShipment, Shipment, Stats } from "./Api.js"
import { ShipmentBooked, ShipmentReplayed } from "./Api.js"
import { CarrierUnavailable, IdempotencyConflict, MissingIdempotencyKey, ShipmentNotFound } from "./Errors.js"
import { EventFeed } from "./EventFeed.js"
import type { Settings } from "./Settings.js"
import { validateFailureRate } from "./Settings.js"

export interface ShipmentsService {
  readonly book: (
    idempotencyKey: string | undefined,
    request: BookShipment
  ) => Effect.Effect<
    ShipmentBooked | ShipmentReplayed,
    MissingIdempotencyKey | IdempotencyConflict | CarrierUnavailable
  >
  readonly get: (shipmentId: string) => Effect.Effect<Shipment, ShipmentNotFound>
  readonly stats: Effect.Effect<Stats>
  /** Changes the fraction of bookings that fail with 503 (0..1; throws a `RangeError` otherwise). */
  readonly setFailureRate: (rate: number) => Effect.Effect<void>
}

interface Entry {
  shipment: Shipment
  readonly key: string
  /** The request body as first seen, to tell a replay from a key reused for another request. */
  readonly fingerprint: string
}

// Random, not sequential: a restarted simulator must not hand out ids an earlier run already used.
const newShipmentId = () => `shp_${randomBytes(8).toString("hex")}`
const newTrackingNumber = () => `SIM${randomBytes(6).toString("hex").toUpperCase()}`

const fingerprint = (request: BookShipment) =>
  JSON.stringify([request.orderId, request.email, request.items.map((item) => [item.sku, item.quantity])])

export class Shipments extends Context.Tag("carrier-sim/Shipments")<Shipments, ShipmentsService>() {
  static readonly make = (settings: Settings) =>
    Effect.gen(function*() {
      const feed = yield* EventFeed
      // Scheduled tracking events; interrupted when the simulator stops (nothing is persisted anyway).
      const schedules = yield* FiberSet.make()
      const byId = new Map<string, Entry>()
      const byKey = new Map<string, Entry>()
      const createdByKey = new Map<string, number>()
      const requests = { pending: 0, booked: 0, replayed: 0, failed: 0, rejected: 0 }
      let failureRate = settings.failureRate

      const latency = Effect.gen(function*() {
        const base = Duration.toMillis(settings.latency)
        const jitter = Duration.toMillis(settings.jitter)
        const ms = jitter > 0 ? yield* Random.nextRange(base - jitter, base + jitter) : base
        if (ms > 0) yield* Effect.sleep(Duration.millis(ms))
      })

      const track = (entry: Entry) =>
        Effect.gen(function*() {
          const { orderId, shipmentId, trackingNumber } = entry.shipment
          yield* Effect.sleep(settings.inTransitAfter)
          entry.shipment = { ...entry.shipment, status: "in_transit" }
          yield* feed.append({ shipmentId, trackingNumber, orderId, type: "in_transit" })
          yield* Effect.sleep(Duration.subtract(settings.deliveredAfter, settings.inTransitAfter))
          entry.shipment = { ...entry.shipment, status: "delivered" }
          yield* feed.append({ shipmentId, trackingNumber, orderId, type: "delivered" })
        })

      /** Synchronous from lookup to insert, so concurrent duplicates cannot both create a shipment. */
      const bookNow = (key: string, request: BookShipment, bookedAt: string) =>
        Effect.suspend(() => {
          const existing = byKey.get(key)
          if (existing !== undefined) {
            if (existing.fingerprint !== fingerprint(request)) {
              requests.rejected++
              return Effect.fail(new IdempotencyConflict({ key, shipmentId: existing.shipment.shipmentId }))
            }
            requests.replayed++
            const { shipmentId, trackingNumber } = existing.shipment
            return Effect.succeed(new ShipmentReplayed({ shipmentId, trackingNumber }))
          }
          let shipmentId = newShipmentId()
          while (byId.has(shipmentId)) shipmentId = newShipmentId()
          const shipment: Shipment = {
            ...request,
            shipmentId,
            trackingNumber: newTrackingNumber(),
            status: "booked",
            bookedAt
          }
          const entry: Entry = { shipment, key, fingerprint: fingerprint(request) }
          byId.set(shipmentId, entry)
          byKey.set(key, entry)
          createdByKey.set(key, (createdByKey.get(key) ?? 0) + 1)
          requests.booked++
          // interruptible: forked from the uninterruptible booking, it would otherwise hold shutdown
          // until its last event was due
          return FiberSet.run(schedules, Effect.interruptible(track(entry))).pipe(
            Effect.as(new ShipmentBooked({ shipmentId, trackingNumber: shipment.trackingNumber }))
          )
        })

      const book = Effect.fn("Shipments.book")(function*(idempotencyKey: string | undefined, request: BookShipment) {
        if (idempotencyKey === undefined || idempotencyKey.trim() === "") {
          requests.rejected++
          return yield* new MissingIdempotencyKey()
        }
        requests.pending++
        return yield* Effect.gen(function*() {
          yield* latency
          // Decided after the latency, like a real outage that times out upstream.
          if ((yield* Random.next) < failureRate) {
            requests.failed++
            return yield* new CarrierUnavailable()
          }
          const bookedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
          return yield* bookNow(idempotencyKey, request, bookedAt)
        }).pipe(Effect.ensuring(Effect.sync(() => requests.pending--)))
      })

      const get = Effect.fn("Shipments.get")(function*(shipmentId: string) {
        const entry = byId.get(shipmentId)
        if (entry === undefined) return yield* new ShipmentNotFound({ shipmentId })
        return entry.shipment
      })

      const stats = Effect.map(feed.stats, (feedStats): Stats => ({
        shipments: byId.size,
        events: feedStats.events,
        bookingsByKey: Object.fromEntries(createdByKey),
        requests: { ...requests },
        polls: { waiting: feedStats.waiting, answered: feedStats.answered },
        failureRate
      }))

      return Shipments.of({
        book,
        get,
        stats,
        setFailureRate: (rate) => Effect.sync(() => (failureRate = validateFailureRate(rate)))
      })
    })

  static readonly layer = (settings: Settings): Layer.Layer<Shipments, never, EventFeed> =>
    Layer.scoped(Shipments, Shipments.make(settings))
}
