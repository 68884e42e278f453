/**
 * The shop's two order endpoints on `node:http` and a `pg` pool, no framework: the floor the shop's HTTP
 * stack is measured against. `node dist/peers/BareNode.js` with `DATABASE_URL` (see `OrdersSql.runMain`).
 */
import * as Http from "node:http"
import type pg from "pg"
import {
  badRequest,
  connectPool,
  createOrder,
  errorBody,
  getOrder,
  type Input,
  isMain,
  isRecord,
  normalize,
  type Peer,
  type PeerOptions,
  type Reply,
  Rules,
  runMain
} from "./OrdersSql.js"

const isInt = (u: unknown, min: number, max: number) =>
  typeof u === "number" && Number.isSafeInteger(u) && u >= min && u <= max

/** `CreateOrder`'s checks, hand-written as a user without a schema library would; the first failure wins. */
const invalid = (body: unknown): string | undefined => {
  if (!isRecord(body)) return "expected an object with email and items"
  const { email, items } = body
  if (typeof email !== "string" || email.length > Rules.maxEmailLength || !Rules.email.test(email)) {
    return "email: expected an e-mail address such as ada@example.com"
  }
  if (!Array.isArray(items) || items.length < 1 || items.length > Rules.maxItems) {
    return `items: expected 1 to ${Rules.maxItems} lines`
  }
  for (const [i, item] of items.entries()) {
    if (!isRecord(item)) return `items[${i}]: expected an object`
    const { quantity, sku, unitPriceCents } = item
    if (typeof sku !== "string" || sku.length < 1 || sku.length > Rules.maxSkuLength || !Rules.sku.test(sku)) {
      return `items[${i}].sku: expected 1-${Rules.maxSkuLength} printable ASCII characters`
    }
    if (!isInt(quantity, 1, Rules.maxQuantity)) return `items[${i}].quantity: expected an integer from 1 to 1000`
    if (!isInt(unitPriceCents, 0, Rules.maxUnitPriceCents)) return `items[${i}].unitPriceCents: out of range`
  }
  return undefined
}

/** The body as text; `undefined` past the limit (the rest is drained, so the 413 still reaches the client). */
const readBody = (request: Http.IncomingMessage) =>
  new Promise<string | undefined>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= Rules.maxBodyBytes) chunks.push(chunk)
    })
    request.on("end", () => resolve(size > Rules.maxBodyBytes ? undefined : Buffer.concat(chunks).toString("utf8")))
    request.on("error", reject)
  })

const create = async (pool: pg.Pool, request: Http.IncomingMessage): Promise<Reply> => {
  // the shop decodes a body without a content type as JSON, and anything else fails its schema
  const type = request.headers["content-type"]
  if (type !== undefined && !type.toLowerCase().includes("application/json")) return badRequest("expected JSON")
  // Node joins a repeated header into one string (only set-cookie stays an array)
  const key = request.headers["idempotency-key"] as string | undefined
  if (key !== undefined && (key.length < 1 || key.length > 200)) return badRequest("idempotency-key: 1-200 chars")
  const text = await readBody(request)
  if (text === undefined) {
    const message = `request body exceeds the limit of ${Rules.maxBodyBytes} bytes`
    return { status: 413, body: errorBody("PayloadTooLarge", message, { maxBytes: Rules.maxBodyBytes }) }
  }
  let body: unknown
  try {
    body = text === "" ? null : JSON.parse(text) // the shop decodes an empty body as null: a schema failure
  } catch (cause) {
    const message = `request body is not valid JSON: ${(cause as Error).message}`
    return { status: 400, body: errorBody("MalformedJson", message) }
  }
  normalize(body)
  const problem = invalid(body)
  return problem === undefined ? createOrder(pool, body as Input, key) : badRequest(problem)
}

const orderPath = /^\/v1\/orders\/([^/]+)$/

export const start = async (options: PeerOptions): Promise<Peer> => {
  const pool = await connectPool(options)
  const route = async (request: Http.IncomingMessage): Promise<Reply> => {
    const url = request.url ?? "/"
    const path = url.includes("?") ? url.slice(0, url.indexOf("?")) : url
    if (path === "/v1/orders" && request.method === "POST") return create(pool, request)
    const id = orderPath.exec(path)?.[1]
    if (id !== undefined && request.method === "GET") {
      const digits = decodeURIComponent(id) // the shop's router decodes path segments too
      const n = Rules.orderId.test(digits) ? Number(digits) : NaN
      return Number.isSafeInteger(n) ? getOrder(pool, n) : badRequest("id: expected a decimal integer such as 42")
    }
    if (path === "/readyz" && request.method === "GET") return { status: 200, body: { status: "ready" } }
    return { status: 404, body: { _tag: "NotFound", message: `no route for ${request.method} ${path}` } }
  }
  const server = Http.createServer((request, response) => {
    route(request).catch((cause): Reply => {
      // a malformed %-escape is the client's fault; anything else (the database) is ours
      if (cause instanceof URIError) return badRequest("malformed URL")
      console.error(cause)
      return { status: 500, body: { _tag: "InternalServerError", message: "internal error" } }
    }).then(({ body, status }) => {
      const text = JSON.stringify(body)
      response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
      response.end(text)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, options.host ?? "127.0.0.1", resolve)
  }).catch(async (cause) => {
    await pool.end()
    throw cause
  })
  const address = server.address()
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      await closed
      await pool.end()
    }
  }
}

if (isMain(import.meta.url)) runMain(start)
