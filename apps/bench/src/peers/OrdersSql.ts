/**
 * What both peers share, so that the only thing the side-by-side benchmark compares is the HTTP stack:
 * the shop's SQL for `POST /v1/orders` and `GET /v1/orders/{id}` (statement for statement and round trip
 * for round trip, see `apps/shop/src/Orders.ts`), the JSON the shop's schemas encode, its input rules, and
 * the pool and process settings.
 *
 * Plain `pg` and `process.env`, no Effect: this is what a user of the other stacks would write. Only
 * types come from `@shop/domain`, so the bodies are checked against the shop's contract at compile time.
 */
import type { CreateOrder, Order, OrderWithEvents } from "@shop/domain/Order"
import { pathToFileURL } from "node:url"
import pg from "pg"

// The statements of the shop's `Orders` (`@effect/sql-pg` sends the same texts, whitespace aside): one
// round trip per read, the lines and events aggregated as JSON; one statement per insert.
const itemsJson = `COALESCE((
  SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents)
                  ORDER BY i.line)
  FROM order_items i WHERE i.order_id = o.id), '[]'::json)`
const eventsJson = `COALESCE((
  SELECT json_agg(json_build_object('from', e.from_status, 'to', e.to_status,
                                    'atMs', floor(extract(epoch FROM e.at) * 1000)) ORDER BY e.id)
  FROM order_events e WHERE e.order_id = o.id), '[]'::json)`
const orderColumns = (alias: string) =>
  `${alias}.id, ${alias}.status, ${alias}.email, ${alias}.total_cents AS "totalCents",
  ${alias}.tracking_number AS "trackingNumber", ${alias}.created_at AS "createdAt",
  ${alias}.updated_at AS "updatedAt", ${alias}.shipment_id AS "shipmentId",
  ${alias}.carrier_attempts AS "carrierAttempts", ${alias}.carrier_last_error AS "carrierLastError",
  ${alias}.carrier_failed AS "carrierFailed"`
const Sql = {
  orderByKey: `SELECT ${orderColumns("o")}, ${itemsJson} AS items FROM orders o WHERE o.idempotency_key = $1`,
  orderWithEvents: `SELECT ${orderColumns("o")}, ${itemsJson} AS items, ${eventsJson} AS events
    FROM orders o WHERE o.id = $1`,
  insertOrder: `
    WITH created AS (
      INSERT INTO orders (email, status, total_cents, idempotency_key)
      VALUES ($1, 'pending', $2, $3)
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING *
    ), lines AS (
      INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
      SELECT created.id, l.line, l.sku, l.quantity, l.unit_price_cents
      FROM created, ROWS FROM (json_to_recordset($4::json)
        AS (sku text, quantity int, unit_price_cents bigint)) WITH ORDINALITY AS l(sku, quantity, unit_price_cents, line)
    )
    SELECT ${orderColumns("created")} FROM created`
}

/** The shop's input rules (`packages/domain/src/Order.ts`, `Email.ts`); the peers' test checks them against it. */
export const Rules = {
  email: /^[^\s@\p{Cc}\p{Cs}]+@[^\s@\p{Cc}\p{Cs}]+\.[^\s@\p{Cc}\p{Cs}]+$/u,
  maxEmailLength: 254,
  sku: /^[!-~]+$/,
  maxSkuLength: 64,
  maxItems: 100,
  maxQuantity: 1000,
  maxUnitPriceCents: 100_000_000,
  orderId: /^[1-9][0-9]{0,15}$/,
  maxBodyBytes: 1024 * 1024
}

/** JSON bodies, typed by the shop's wire schemas. */
export type OrderJson = typeof Order.Encoded
export type OrderWithEventsJson = typeof OrderWithEvents.Encoded
export type Input = typeof CreateOrder.Type
export interface Reply {
  readonly status: number
  readonly body: unknown
}

export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** The shop's decoding trims e-mail and SKUs (and lowercases the e-mail) before validating them. */
export const normalize = (body: unknown): void => {
  if (!isRecord(body)) return
  if (typeof body.email === "string") body.email = body.email.trim().toLowerCase()
  if (!Array.isArray(body.items)) return
  for (const item of body.items) if (isRecord(item) && typeof item.sku === "string") item.sku = item.sku.trim()
}

/** The shop's error bodies: the fields, then `_tag` (that is how its schemas encode them). */
export const errorBody = (tag: string, message: string, fields: Record<string, unknown> = {}) => ({
  ...fields,
  message,
  _tag: tag
})
export const badRequest = (message: string): Reply => ({ status: 400, body: errorBody("HttpApiDecodeError", message) })

/** The columns as the statements name them (the shop's `OrderRow`). */
interface OrderRow {
  readonly id: string // bigint
  readonly status: OrderJson["status"]
  readonly email: string
  readonly totalCents: string
  readonly trackingNumber: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly shipmentId: string | null
  readonly carrierAttempts: number
  readonly carrierLastError: string | null
  readonly carrierFailed: boolean
}
type Item = Input["items"][number]

const toOrder = (row: OrderRow, items: ReadonlyArray<Item>): OrderJson => ({
  id: Number(row.id),
  status: row.status,
  email: row.email,
  items: items.map((item) => ({ sku: item.sku, quantity: item.quantity, unitPriceCents: item.unitPriceCents })),
  totalCents: Number(row.totalCents),
  trackingNumber: row.trackingNumber,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString()
})

type Status = OrderJson["status"]
interface LoadedRow extends OrderRow {
  readonly items: ReadonlyArray<Item>
  readonly events?: ReadonlyArray<{ readonly from: Status; readonly to: Status; readonly atMs: number | string }>
}

/** The shop's `byKey`: one round trip. */
const byKey = async (pool: pg.Pool, key: string) => {
  const [row] = (await pool.query<LoadedRow>(Sql.orderByKey, [key])).rows
  return row === undefined ? undefined : toOrder(row, row.items)
}

const sameRequest = (order: OrderJson, input: Input) =>
  order.email === input.email && order.items.length === input.items.length &&
  order.items.every((item, i) =>
    item.sku === input.items[i].sku && item.quantity === input.items[i].quantity &&
    item.unitPriceCents === input.items[i].unitPriceCents
  )

const replay = (key: string, input: Input, order: OrderJson): Reply =>
  sameRequest(order, input) ? { status: 201, body: order } : {
    status: 422,
    body: errorBody("IdempotencyConflict", `idempotency key "${key}" was already used with a different request body`, {
      key
    })
  }

/** The shop's `insert`: one statement (atomic by itself), the lines as one JSON parameter. */
const insert = async (pool: pg.Pool, input: Input, key: string | undefined) => {
  // the shop's `totalCents` (`@shop/domain/Order`), inlined: the peers do not load Effect
  const total = input.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0)
  const lines = JSON.stringify(
    input.items.map((item) => ({ sku: item.sku, quantity: item.quantity, unit_price_cents: item.unitPriceCents }))
  )
  const [row] = (await pool.query<OrderRow>(Sql.insertOrder, [input.email, total, key ?? null, lines])).rows
  return row === undefined ? undefined : toOrder(row, input.items) // undefined: a concurrent request with the key won
}

/** `Orders.create`: with a key, look it up first and replay; without one, the transaction alone. */
export const createOrder = async (pool: pg.Pool, input: Input, key: string | undefined): Promise<Reply> => {
  if (key !== undefined) {
    const existing = await byKey(pool, key)
    if (existing) return replay(key, input, existing)
  }
  const created = await insert(pool, input, key)
  if (created) return { status: 201, body: created }
  return replay(key!, input, (await byKey(pool, key!))!)
}

/** `Orders.get`: the order, its items and events in one round trip. */
export const getOrder = async (pool: pg.Pool, id: number): Promise<Reply> => {
  const [row] = (await pool.query<LoadedRow>(Sql.orderWithEvents, [id])).rows
  if (row === undefined) {
    return { status: 404, body: errorBody("OrderNotFound", `order ${id} does not exist`, { id }) }
  }
  const body: OrderWithEventsJson = {
    ...toOrder(row, row.items),
    events: (row.events ?? []).map((e) => ({ from: e.from, to: e.to, at: new Date(Number(e.atMs)).toISOString() })),
    carrier: {
      attempts: row.carrierAttempts,
      shipmentId: row.shipmentId,
      lastError: row.carrierLastError,
      failed: row.carrierFailed
    }
  }
  return { status: 200, body }
}

export interface PeerOptions {
  readonly port: number
  readonly host?: string | undefined
  readonly databaseUrl: string
  /** The shop's `DATABASE_POOL_SIZE` default. */
  readonly poolSize?: number | undefined
}

export interface Peer {
  readonly port: number
  /** Stops accepting, closes idle keep-alive sockets, waits for requests in flight, then ends the pool. */
  readonly close: () => Promise<void>
}

/** The shop's pool settings (`packages/database/src/Database.ts` defaults), connected before it is handed out. */
export const connectPool = async (options: PeerOptions): Promise<pg.Pool> => {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000
  })
  // an idle connection dropped by the server must not crash the process (the shop ignores these too)
  pool.on("error", () => {})
  try {
    await pool.query("SELECT 1")
    return pool
  } catch (cause) {
    await pool.end()
    throw cause
  }
}

const envInteger = (name: string, fallback: number, min: number, max: number) => {
  const text = process.env[name]?.trim()
  const n = text ? Number(text) : fallback
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}`)
  return n
}

/** Run as `node <peer>.js`, not imported (Node 20 has no `import.meta.main`). */
export const isMain = (moduleUrl: string): boolean =>
  process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl

/**
 * The entry point: settings from the environment (the shop's names and defaults, `HOST` 127.0.0.1), one
 * "listening on" line, and SIGTERM (or SIGINT) → close → exit 0.
 */
export const runMain = (start: (options: PeerOptions) => Promise<Peer>): void => {
  const run = async () => {
    const databaseUrl = process.env.DATABASE_URL?.trim()
    if (!databaseUrl) throw new Error("DATABASE_URL is required")
    const host = process.env.HOST?.trim() || "127.0.0.1"
    const options = {
      host,
      databaseUrl,
      port: envInteger("PORT", 8080, 0, 65535),
      poolSize: envInteger("DATABASE_POOL_SIZE", 10, 1, 10_000)
    }
    const peer = await start(options)
    console.log(`listening on http://${host}:${peer.port}`)
    const stop = () => peer.close().then(() => process.exit(0), (cause) => (console.error(cause), process.exit(1)))
    process.once("SIGTERM", stop)
    process.once("SIGINT", stop)
  }
  run().catch((cause) => {
    console.error(cause)
    process.exit(1)
  })
}
