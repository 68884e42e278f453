/**
 * Orders as they cross the wire: what a client sends, what the shop answers, how lists are paged.
 *
 * Bodies are `Schema.Struct`s (plain data), not `Schema.Class`es: a class nested inside another schema
 * only accepts class instances when encoding, so a plain object that type-checks still fails at run time
 * (a 500 from a handler, a ParseError in a client). `X.make(...)` validates like a constructor would.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Email, EmailFromInput } from "./Email.js"

/**
 * Every status an order can be in. Which moves are legal lives in `OrderStateMachine`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderStatus = Schema.Literal(
  "pending",
  "paid",
  "picking",
  "packed",
  "shipped",
  "delivered",
  "cancelled"
).annotations({ identifier: "OrderStatus", description: "Where the order is in its life cycle" })

/**
 * @since 0.1.0
 * @category models
 */
export type OrderStatus = typeof OrderStatus.Type

/**
 * Order ids are database serials. The upper bound keeps them exact in a JavaScript number.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderId = Schema.Int.pipe(
  Schema.positive(),
  Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER),
  Schema.annotations({ identifier: "OrderId", description: "A positive integer" })
)

// Path segments and query values are strings. `NumberFromString` alone accepts "1e3", "0x10", " 7" and
// "Infinity"; ids and page sizes are plain decimal digits and nothing else.
const DecimalDigits = Schema.String.pipe(
  Schema.pattern(/^(0|[1-9][0-9]{0,15})$/, { message: () => "Expected a decimal integer such as 42" })
)
const IntFromDigits = Schema.compose(DecimalDigits, Schema.NumberFromString)

/**
 * An {@link OrderId} in a URL path: `/v1/orders/abc` or `/v1/orders/0` is a 400, not a 404.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderIdFromString = IntFromDigits.pipe(Schema.compose(OrderId))

/**
 * A stock-keeping unit: 1 to 64 printable ASCII characters without spaces, after trimming.
 *
 * Unicode and control characters are rejected on purpose. SKUs end up on pick lists, barcodes
 * (Code 128 is ASCII) and carrier labels; look-alike letters ("SKU-1" with a Cyrillic "К") would be
 * different SKUs that print the same, and Postgres cannot store NUL in `text` at all.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Sku = Schema.Trim.pipe(
  Schema.minLength(1),
  Schema.maxLength(64),
  Schema.pattern(/^[!-~]+$/, { message: () => "Expected printable ASCII characters without spaces" }),
  Schema.annotations({ identifier: "Sku", description: "1-64 printable ASCII characters", examples: ["TEA-GREEN-250"] })
)

/**
 * @since 0.1.0
 * @category schemas
 */
export const Quantity = Schema.Int.pipe(
  Schema.between(1, 1000),
  Schema.annotations({ identifier: "Quantity", description: "An integer from 1 to 1000" })
)

/**
 * Ten thousand currency units per item: above any real catalogue, and low enough that
 * `100 items × 1000 × price` (1e13) stays far inside `Number.MAX_SAFE_INTEGER`.
 *
 * @since 0.1.0
 * @category constants
 */
export const MaxUnitPriceCents = 100_000_000

/**
 * @since 0.1.0
 * @category schemas
 */
export const PriceCents = Schema.Int.pipe(
  Schema.between(0, MaxUnitPriceCents),
  Schema.annotations({ identifier: "PriceCents", description: "An amount in cents, 0 to 100000000" })
)

/**
 * One line of an order. The same SKU may appear on several lines; lines are kept as sent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderItem = Schema.Struct({
  sku: Sku,
  quantity: Quantity,
  unitPriceCents: PriceCents
}).annotations({ identifier: "OrderItem" })

/**
 * @since 0.1.0
 * @category models
 */
export interface OrderItem extends Schema.Schema.Type<typeof OrderItem> {}

/**
 * The request body of `POST /v1/orders`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateOrder = Schema.Struct({
  email: EmailFromInput,
  items: Schema.Array(OrderItem).pipe(Schema.minItems(1), Schema.maxItems(100))
}).annotations({ identifier: "CreateOrder", description: "A new order: who it is for and 1 to 100 lines" })

/**
 * @since 0.1.0
 * @category models
 */
export interface CreateOrder extends Schema.Schema.Type<typeof CreateOrder> {}

/**
 * The order total the server stores; exact, because every term is a safe integer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const totalCents = (items: ReadonlyArray<OrderItem>): number =>
  items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0)

/**
 * An order as the shop reports it. Timestamps are `DateTime.Utc` in code and ISO-8601 strings on the wire.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Order = Schema.Struct({
  id: OrderId,
  status: OrderStatus,
  email: Email,
  items: Schema.Array(OrderItem),
  totalCents: Schema.NonNegativeInt,
  trackingNumber: Schema.NullOr(Schema.String).annotations({ description: "Set once the carrier booked it" }),
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc
}).annotations({ identifier: "Order" })

/**
 * @since 0.1.0
 * @category models
 */
export interface Order extends Schema.Schema.Type<typeof Order> {}

/**
 * One status change, as recorded in the order's event log.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderEvent = Schema.Struct({
  from: OrderStatus,
  to: OrderStatus,
  at: Schema.DateTimeUtc
}).annotations({ identifier: "OrderEvent" })

/**
 * @since 0.1.0
 * @category models
 */
export interface OrderEvent extends Schema.Schema.Type<typeof OrderEvent> {}

/**
 * An order with its status history, oldest event first.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CarrierBooking = Schema.Struct({
  attempts: Schema.NonNegativeInt,
  shipmentId: Schema.NullOr(Schema.String),
  lastError: Schema.NullOr(Schema.String),
  failed: Schema.Boolean.annotations({
    description: "The carrier refused it or every attempt failed: an operator must retry it"
  })
}).annotations({ identifier: "CarrierBooking", description: "Booking the shipment of a packed order" })

/**
 * @since 0.1.0
 * @category models
 */
export interface CarrierBooking extends Schema.Schema.Type<typeof CarrierBooking> {}

/**
 * @since 0.1.0
 * @category schemas
 */
export const OrderWithEvents = Schema.Struct({
  ...Order.fields,
  events: Schema.Array(OrderEvent),
  carrier: CarrierBooking
}).annotations({ identifier: "OrderWithEvents" })

/**
 * @since 0.1.0
 * @category models
 */
export interface OrderWithEvents extends Schema.Schema.Type<typeof OrderWithEvents> {}

/**
 * One page of `GET /v1/orders`. `nextCursor` is null on the last page.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderPage = Schema.Struct({
  items: Schema.Array(Order),
  nextCursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "OrderPage" })

/**
 * @since 0.1.0
 * @category models
 */
export interface OrderPage extends Schema.Schema.Type<typeof OrderPage> {}

/**
 * The page size the server uses when `limit` is absent. The default lives here, not in
 * {@link ListOrdersParams}, so clients may omit the parameter.
 *
 * @since 0.1.0
 * @category constants
 */
export const DefaultPageSize = 20

/**
 * The query string of `GET /v1/orders`. The cursor is opaque: pass back the `nextCursor` you received.
 *
 * It has no `identifier` on purpose: OpenApi turns an identified schema into a `$ref`, and a `$ref`'d
 * query schema yields no query parameters in the generated document.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListOrdersParams = Schema.Struct({
  status: Schema.optionalWith(OrderStatus, { exact: true }),
  limit: Schema.optionalWith(
    IntFromDigits.pipe(Schema.compose(Schema.Int.pipe(Schema.between(1, 100)))).annotations({
      description: `Page size, 1 to 100 (default ${DefaultPageSize})`
    }),
    { exact: true }
  ),
  cursor: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(512)), { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ListOrdersParams extends Schema.Schema.Type<typeof ListOrdersParams> {}
