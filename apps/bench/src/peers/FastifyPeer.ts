/**
 * The shop's two order endpoints on Fastify 5 and a `pg` pool, set up as Fastify's docs advise for
 * throughput: no logger, JSON-schema validation of params/headers/body and response schemas (serialized by
 * fast-json-stringify). `node dist/peers/FastifyPeer.js` with `DATABASE_URL` (see `OrdersSql.runMain`).
 */
import Fastify, { type FastifyError } from "fastify"
import {
  badRequest,
  connectPool,
  createOrder,
  errorBody,
  getOrder,
  type Input,
  isMain,
  normalize,
  type Peer,
  type PeerOptions,
  Rules,
  runMain
} from "./OrdersSql.js"

const str = { type: "string" } as const
const int = (minimum: number, maximum: number) => ({ type: "integer", minimum, maximum }) as const
const nullable = { type: ["string", "null"] } as const
const object = (properties: Record<string, unknown>) => ({
  type: "object",
  required: Object.keys(properties),
  properties
})

// `CreateOrder` as JSON Schema. Ajv runs patterns with the `u` flag, as the shop's e-mail pattern needs.
const item = object({
  sku: { type: "string", minLength: 1, maxLength: Rules.maxSkuLength, pattern: Rules.sku.source },
  quantity: int(1, Rules.maxQuantity),
  unitPriceCents: int(0, Rules.maxUnitPriceCents)
})
const createBody = object({
  email: { type: "string", maxLength: Rules.maxEmailLength, pattern: Rules.email.source },
  items: { type: "array", minItems: 1, maxItems: Rules.maxItems, items: item }
})
const headers = { type: "object", properties: { "idempotency-key": { type: "string", minLength: 1, maxLength: 200 } } }
const params = object({ id: { type: "string", pattern: Rules.orderId.source } })

// Response schemas list the fields in the shop's order, so the bytes match too.
const order = {
  id: { type: "integer" },
  status: str,
  email: str,
  items: { type: "array", items: item },
  totalCents: { type: "integer" },
  trackingNumber: nullable,
  createdAt: str,
  updatedAt: str
}
const withEvents = object({
  ...order,
  events: { type: "array", items: object({ from: str, to: str, at: str }) },
  carrier: object({
    attempts: { type: "integer" },
    shipmentId: nullable,
    lastError: nullable,
    failed: { type: "boolean" }
  })
})
const failure = (fields: Record<string, unknown> = {}) => object({ ...fields, message: str, _tag: str })

export const start = async (options: PeerOptions): Promise<Peer> => {
  const pool = await connectPool(options)
  const app = Fastify({
    logger: false,
    // Fastify's Ajv defaults coerce ("2" → 2, an object → [object]); the shop's schema accepts neither
    ajv: { customOptions: { coerceTypes: false } }
  })
  app.addHook("onClose", () => pool.end())

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) return reply.code(400).send(badRequest(`${error.validationContext} ${error.message}`).body)
    switch (error.code) {
      case "FST_ERR_CTP_EMPTY_JSON_BODY": // the shop decodes an empty body as null: a schema failure
        return reply.code(400).send(badRequest("expected an object with email and items").body)
      case "FST_ERR_CTP_INVALID_JSON_BODY":
        return reply.code(400).send(errorBody("MalformedJson", "request body is not valid JSON"))
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return reply.code(413).send(errorBody("PayloadTooLarge", error.message, { maxBytes: Rules.maxBodyBytes }))
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE": // the shop's schema fails on a body that is not JSON: a 400
        return reply.code(400).send(badRequest(error.message).body)
    }
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send(error)
    console.error(error)
    return reply.code(500).send({ _tag: "InternalServerError", message: "internal error" })
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ _tag: "NotFound", message: `no route for ${request.method} ${request.url.split("?")[0]}` })
  )

  app.post<{ Body: Input; Headers: { "idempotency-key"?: string } }>("/v1/orders", {
    schema: {
      body: createBody,
      headers,
      response: { 201: object(order), 400: failure(), 422: failure({ key: str }) }
    },
    // the shop decodes a body without a content type as JSON
    onRequest: (request, _reply, done) => {
      request.headers["content-type"] ??= "application/json"
      done()
    },
    // the shop trims (and lowercases the e-mail) before validating: JSON Schema cannot
    preValidation: (request, _reply, done) => {
      normalize(request.body)
      done()
    }
  }, async (request, reply) => {
    // Ajv counts the length in code points, the shop in UTF-16 units (an emoji is 2)
    if (request.body.email.length > Rules.maxEmailLength) {
      return reply.code(400).send(badRequest("email: too long").body)
    }
    const { body, status } = await createOrder(pool, request.body, request.headers["idempotency-key"])
    return reply.code(status).send(body)
  })

  app.get<{ Params: { id: string } }>("/v1/orders/:id", {
    schema: { params, response: { 200: withEvents, 400: failure(), 404: failure({ id: { type: "integer" } }) } }
  }, async (request, reply) => {
    const id = Number(request.params.id)
    // the pattern allows 16 digits; the shop's ids stop at Number.MAX_SAFE_INTEGER
    if (!Number.isSafeInteger(id)) return reply.code(400).send(badRequest("id: expected a decimal integer").body)
    const { body, status } = await getOrder(pool, id)
    return reply.code(status).send(body)
  })

  app.get("/readyz", { schema: { response: { 200: object({ status: str }) } } }, async () => ({ status: "ready" }))

  await app.listen({ port: options.port, host: options.host ?? "127.0.0.1" }).catch(async (cause) => {
    await app.close()
    throw cause
  })
  const address = app.server.address()
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    // server.close(), which since Node 19 also closes the idle keep-alive sockets, then onClose: the pool
    close: () => app.close()
  }
}

if (isMain(import.meta.url)) runMain(start)
