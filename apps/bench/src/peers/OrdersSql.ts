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

// The texts `@effect/sql-pg` sends for the shop's tagged templates (whitespace aside), printed with `.compile()`.
const Sql = {
  orderIdByKey: "SELECT id FROM orders WHERE idempotency_key = $1",
  orderById: "SELECT * FROM orders WHERE id = $1",
  // `sql.in("order_id", [id])` quotes the column
  itemsOf: `SELECT order_id, sku, quantity, unit_price_cents FROM order_items WHERE "order_id" IN ($1)
            ORDER BY order_id, line`,
  insertOrder: `INSERT INTO orders (email, status, total_cents, idempotency_key) VALUES ($1, 'pending', $2, $3)
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
  // `sql.insert(lines)`: one multi-row INSERT, the key names snake_cased and quoted
  insertItems: (lines: number) =>
    `INSERT INTO order_items ("order_id","line","sku","quantity","unit_price_cents") VALUES ` +
    Array.from({ length: lines }, (_, i) => `($${i * 5 + 1},$${i * 5 + 2},$${i * 5 + 3},$${i * 5 + 4},$${i * 5 + 5})`)
      .join(","),
  eventsOf: "SELECT from_status, to_status, at FROM order_events WHERE order_id = $1 ORDER BY at, id"
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

interface OrderRow {
  readonly id: string // bigint
  readonly status: OrderJson["status"]
  readonly email: string
  readonly total_cents: string
  readonly tracking_number: string | null
  readonly created_at: Date
  readonly updated_at: Date
  readonly shipment_id: string | null
  readonly carrier_attempts: number
  readonly carrier_last_error: string | null
  readonly carrier_failed: boolean
}
type Item = Input["items"][number]

const toOrder = (row: OrderRow, items: ReadonlyArray<Item>): OrderJson => ({
  id: Number(row.id),
  status: row.status,
  email: row.email,
  items: items.map((item) => ({ sku: item.sku, quantity: item.quantity, unitPriceCents: item.unitPriceCents })),
  totalCents: Number(row.total_cents),
  trackingNumber: row.tracking_number,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString()
})

/** `SELECT *` then the items: the shop's `loadRow`, two round trips. */
const loadRow = async (pool: pg.Pool, id: number) => {
  const [row] = (await pool.query<OrderRow>(Sql.orderById, [id])).rows
  if (row === undefined) return undefined
  const items = await pool.query<{ sku: string; quantity: number; unit_price_cents: string }>(Sql.itemsOf, [id])
  const order = toOrder(row, items.rows.map((i) => ({ ...i, unitPriceCents: Number(i.unit_price_cents) })))
  return { row, order }
}

const byKey = async (pool: pg.Pool, key: string) => {
  const [row] = (await pool.query<{ id: string }>(Sql.orderIdByKey, [key])).rows
  return row === undefined ? undefined : (await loadRow(pool, Number(row.id)))?.order
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

/** BEGIN, the order, its items, COMMIT on one pooled connection: the shop's `sql.withTransaction`. */
const insert = async (pool: pg.Pool, input: Input, key: string | undefined) => {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query("BEGIN")
    // the shop's `totalCents` (`@shop/domain/Order`), inlined: the peers do not load Effect
    const total = input.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0)
    const [row] = (await client.query<OrderRow>(Sql.insertOrder, [input.email, total, key ?? null])).rows
    if (row !== undefined) {
      const values = input.items.flatMap((item, i) => [row.id, i + 1, item.sku, item.quantity, item.unitPriceCents])
      await client.query(Sql.insertItems(input.items.length), values)
    }
    await client.query("COMMIT")
    return row === undefined ? undefined : toOrder(row, input.items) // undefined: a concurrent request with the key won
  } catch (cause) {
    // a connection that cannot even roll back must not go back into the pool
    await client.query("ROLLBACK").catch((rollbackFailed: Error) => broken = rollbackFailed)
    throw cause
  } finally {
    client.release(broken)
  }
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

/** `Orders.get`: order, items, events, one after the other (three round trips, no transaction). */
export const getOrder = async (pool: pg.Pool, id: number): Promise<Reply> => {
  const loaded = await loadRow(pool, id)
  if (loaded === undefined) {
    return { status: 404, body: errorBody("OrderNotFound", `order ${id} does not exist`, { id }) }
  }
  const { order, row } = loaded
  type Status = OrderJson["status"]
  const events = await pool.query<{ from_status: Status; to_status: Status; at: Date }>(Sql.eventsOf, [id])
  const body: OrderWithEventsJson = {
    ...order,
    events: events.rows.map((e) => ({ from: e.from_status, to: e.to_status, at: e.at.toISOString() })),
    carrier: {
      attempts: row.carrier_attempts,
      shipmentId: row.shipment_id,
      lastError: row.carrier_last_error,
      failed: row.carrier_failed
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
