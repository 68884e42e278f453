/** The carrier's wire types, as the SDK hands them to callers. */

export interface ShipmentItem {
  readonly sku: string
  readonly quantity: number
}

export interface BookingRequest {
  readonly orderId: number
  readonly email: string
  readonly items: ReadonlyArray<ShipmentItem>
}

export interface Booking {
  readonly shipmentId: string
  readonly trackingNumber: string
}

export type ShipmentStatus = "booked" | "in_transit" | "delivered"

export interface Shipment extends Booking {
  readonly orderId: number
  readonly email: string
  readonly items: ReadonlyArray<ShipmentItem>
  readonly status: ShipmentStatus
  /** ISO 8601. */
  readonly bookedAt: string
}

export type TrackingEventType = "in_transit" | "delivered"

export interface TrackingEvent {
  /** Position in the carrier's feed; increases by one per event. */
  readonly seq: number
  readonly shipmentId: string
  readonly trackingNumber: string
  readonly orderId: number
  readonly type: TrackingEventType
  /** ISO 8601. */
  readonly at: string
}

export interface EventsPage {
  readonly events: ReadonlyArray<TrackingEvent>
  readonly cursor: number
}
