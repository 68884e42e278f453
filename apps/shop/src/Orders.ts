/**
 * Orders: creation (idempotent with a key), the customer's transitions (pay, cancel), reads and
 * keyset pagination. Every transition writes an `order_events` row; its uniqueness on
 * (order, target status) makes a transition impossible to apply twice.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import { BookingNotFailed, IdempotencyConflict, InvalidTransition, OrderNotFound } from "@shop/domain/Errors"
import {
  type CreateOrder,
  DefaultPageSize,
  type ListOrdersParams,
  type Order,
  type OrderItem,
  type OrderPage,
  type OrderStatus,
  type OrderWithEvents,
  totalCents
} from "@shop/domain/Order"
import * as OrderStateMachine from "@shop/domain/OrderStateMachine"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { Metrics } from "./Metrics.js"

interface OrderRow {
  readonly id: number
  readonly status: OrderStatus
  readonly email: string
  readonly totalCents: string | number
  readonly trackingNumber: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly shipmentId: string | null
  readonly carrierAttempts: number
  readonly carrierLastError: string | null
  readonly carrierFailed: boolean
}

interface ItemRow {
  readonly sku: string
  readonly quantity: number
  readonly unitPriceCents: string | number
}

/** An order row with its lines (and, for `get`, its events) aggregated as JSON by the same query. */
interface LoadedRow extends OrderRow {
  readonly items: ReadonlyArray<ItemRow>
  readonly events?: ReadonlyArray<{ readonly from: OrderStatus; readonly to: OrderStatus; readonly atMs: number }>
}

const toOrder = (row: OrderRow, items: ReadonlyArray<ItemRow>): Order => ({
  id: Number(row.id),
  status: row.status,
  email: row.email,
  items: items.map((item) => ({ sku: item.sku, quantity: item.quantity, unitPriceCents: Number(item.unitPriceCents) })),
  totalCents: Number(row.totalCents),
  trackingNumber: row.trackingNumber,
  createdAt: DateTime.unsafeFromDate(row.createdAt),
  updatedAt: DateTime.unsafeFromDate(row.updatedAt)
})

/** The JSON keys match the column list of `json_to_recordset` in `insert`. */
const itemJson = (item: OrderItem) => ({
  sku: item.sku,
  quantity: item.quantity,
  unit_price_cents: item.unitPriceCents
})

const sameRequest = (order: Order, input: CreateOrder) =>
  order.email === input.email &&
  order.items.length === input.items.length &&
  order.items.every((item, i) =>
    item.sku === input.items[i].sku && item.quantity === input.items[i].quantity &&
    item.unitPriceCents === input.items[i].unitPriceCents
  )

/** Opaque to clients: the id of the last order on the page. */
const encodeCursor = (id: number) => Buffer.from(`o:${id}`).toString("base64url")
const decodeCursor = (cursor: string): number | undefined => {
  const match = /^o:(\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString())
  return match ? Number(match[1]) : undefined
}

export class Orders extends Context.Tag("shop/Orders")<Orders, {
  readonly create: (input: CreateOrder, idempotencyKey: string | undefined) => Effect.Effect<Order, IdempotencyConflict>
  readonly transition: (id: number, to: OrderStatus) => Effect.Effect<Order, OrderNotFound | InvalidTransition>
  readonly get: (id: number) => Effect.Effect<OrderWithEvents, OrderNotFound>
  /** Operator action: book a failed order again from scratch. */
  readonly retryBooking: (id: number) => Effect.Effect<OrderWithEvents, OrderNotFound | BookingNotFailed>
  readonly list: (params: ListOrdersParams) => Effect.Effect<OrderPage>
}>() {
  static readonly layer = Layer.effect(
    Orders,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const metrics = yield* Metrics

      const itemsOf = (ids: ReadonlyArray<number>) =>
        ids.length === 0
          ? Effect.succeed<ReadonlyArray<ItemRow & { orderId: string }>>([])
          : sql<ItemRow & { orderId: string }>`SELECT order_id, sku, quantity, unit_price_cents FROM order_items
                         WHERE ${sql.in("order_id", ids)} ORDER BY order_id, line`

      // One round trip per read: the lines (and events) come with the order as JSON aggregates, instead
      // of a query each (the GET went from three pooled queries to one). Event times travel as epoch
      // milliseconds, truncated as the driver truncates a timestamptz.
      const itemsJson = sql`COALESCE((
        SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents)
                        ORDER BY i.line)
        FROM order_items i WHERE i.order_id = o.id), '[]'::json)`
      const eventsJson = sql`COALESCE((
        SELECT json_agg(json_build_object('from', e.from_status, 'to', e.to_status,
                                          'atMs', floor(extract(epoch FROM e.at) * 1000)) ORDER BY e.at, e.id)
        FROM order_events e WHERE e.order_id = o.id), '[]'::json)`

      const loadWhere = (where: Statement.Fragment) =>
        Effect.map(
          sql<LoadedRow>`SELECT o.*, ${itemsJson} AS items FROM orders o WHERE ${where}`,
          ([row]) => row === undefined ? undefined : toOrder(row, row.items)
        )
      const load = (id: number) => loadWhere(sql`o.id = ${id}`)
      const byKey = (key: string) => loadWhere(sql`o.idempotency_key = ${key}`)

      const replay = (key: string, input: CreateOrder, order: Order) =>
        sameRequest(order, input) ? Effect.succeed(order) : Effect.fail(new IdempotencyConflict({ key }))

      // One statement, so one round trip and atomic by itself: the order and its lines (passed as one
      // JSON parameter), or nothing when a concurrent request with the same key won.
      const insert = (input: CreateOrder, key: string | undefined) =>
        Effect.map(
          sql<OrderRow>`
            WITH created AS (
              INSERT INTO orders (email, status, total_cents, idempotency_key)
              VALUES (${input.email}, 'pending', ${totalCents(input.items)}, ${key ?? null})
              ON CONFLICT (idempotency_key) DO NOTHING
              RETURNING *
            ), lines AS (
              INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
              SELECT created.id, l.line, l.sku, l.quantity, l.unit_price_cents
              FROM created, ROWS FROM (json_to_recordset(${JSON.stringify(input.items.map(itemJson))}::json)
                AS (sku text, quantity int, unit_price_cents bigint)) WITH ORDINALITY AS l(sku, quantity, unit_price_cents, line)
            )
            SELECT * FROM created`,
          ([row]) => row === undefined ? undefined : toOrder(row, input.items)
        )

      const create = Effect.fn("Orders.create")(function*(input: CreateOrder, key: string | undefined) {
        if (key !== undefined) {
          const existing = yield* byKey(key)
          if (existing) return yield* replay(key, input, existing)
        }
        const created = yield* insert(input, key)
        if (created) {
          yield* metrics.increment("shop_orders_created_total", "Orders created")
          return created
        }
        const winner = yield* byKey(key!)
        return yield* replay(key!, input, winner!)
      }, (effect) => Effect.catchTag(effect, "SqlError", Effect.die))

      const transition = Effect.fn("Orders.transition")(function*(id: number, to: OrderStatus) {
        const moved = yield* sql.withTransaction(Effect.gen(function*() {
          // The row lock serialises concurrent pay/cancel of one order: exactly one wins.
          const [current] = yield* sql<{ status: OrderStatus }>`SELECT status FROM orders WHERE id = ${id} FOR UPDATE`
          if (current === undefined) return yield* new OrderNotFound({ id })
          const next = OrderStateMachine.transition(current.status, to)
          if (Either.isLeft(next)) return yield* InvalidTransition.fromIllegal(id, next.left)
          yield* sql`UPDATE orders SET status = ${to}, updated_at = now() WHERE id = ${id}`
          yield* sql`INSERT INTO order_events (order_id, from_status, to_status) VALUES (${id}, ${current.status}, ${to})`
          return current.status
        }))
        yield* metrics.increment("shop_order_transitions_total", "Order status transitions", { from: moved, to })
        return (yield* load(id))!
      }, (effect) => Effect.catchTag(effect, "SqlError", Effect.die))

      const get = Effect.fn("Orders.get")(function*(id: number) {
        const [row] = yield* sql<LoadedRow>`
          SELECT o.*, ${itemsJson} AS items, ${eventsJson} AS events FROM orders o WHERE o.id = ${id}`
        if (row === undefined) return yield* new OrderNotFound({ id })
        return {
          ...toOrder(row, row.items),
          events: (row.events ?? []).map((e) => ({ from: e.from, to: e.to, at: DateTime.unsafeMake(Number(e.atMs)) })),
          carrier: {
            attempts: row.carrierAttempts,
            shipmentId: row.shipmentId,
            lastError: row.carrierLastError,
            failed: row.carrierFailed
          }
        }
      }, (effect) => Effect.catchTag(effect, "SqlError", Effect.die))

      const retryBooking = Effect.fn("Orders.retryBooking")(function*(id: number) {
        yield* sql.withTransaction(Effect.gen(function*() {
          const [current] = yield* sql<{ status: OrderStatus; carrierFailed: boolean }>`
            SELECT status, carrier_failed FROM orders WHERE id = ${id} FOR UPDATE`
          if (current === undefined) return yield* new OrderNotFound({ id })
          if (!current.carrierFailed) return yield* new BookingNotFailed({ id, status: current.status })
          yield* sql`UPDATE orders SET carrier_failed = false, carrier_attempts = 0, carrier_last_error = NULL,
                     carrier_next_attempt_at = NULL, updated_at = now() WHERE id = ${id}`
        }))
        yield* metrics.increment("shop_carrier_booking_retries_total", "Failed bookings retried by an operator")
        return yield* get(id)
      }, (effect) => Effect.catchTag(effect, "SqlError", Effect.die))

      const list = Effect.fn("Orders.list")(function*(params: ListOrdersParams) {
        const limit = params.limit ?? DefaultPageSize
        // An unreadable cursor starts from the top rather than failing: cursors are opaque hints.
        const after = params.cursor === undefined ? undefined : decodeCursor(params.cursor)
        const rows = yield* sql<OrderRow>`
          SELECT * FROM orders
          WHERE ${params.status === undefined ? sql`TRUE` : sql`status = ${params.status}`}
            AND ${after === undefined ? sql`TRUE` : sql`id < ${after}`}
          ORDER BY id DESC LIMIT ${limit + 1}`
        const page = rows.slice(0, limit)
        const items = yield* itemsOf(page.map((row) => Number(row.id)))
        return {
          items: page.map((row) => toOrder(row, items.filter((item) => Number(item.orderId) === Number(row.id)))),
          nextCursor: rows.length > limit ? encodeCursor(Number(page[page.length - 1].id)) : null
        }
      }, (effect) => Effect.catchTag(effect, "SqlError", Effect.die))

      return { create, transition, get, retryBooking, list }
    })
  )
}
