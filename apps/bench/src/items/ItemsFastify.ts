/**
 * The items API (ItemsApi) on Fastify 5, set up as Fastify's docs advise for throughput: no logger,
 * JSON Schema for params and body (Ajv, no coercion), response schemas (fast-json-stringify).
 * `node dist/items/ItemsFastify.js` with `PORT`, `HOST`.
 */
import Fastify from "fastify"
import {
  catalogueSize,
  creator,
  itemOf,
  type ItemShape,
  maxNameLength,
  maxPriceCents,
  maxTagLength,
  maxTags
} from "./ItemsApi.js"
import { listenFromEnv } from "./listen.js"

const item = {
  type: "object",
  required: ["id", "name", "priceCents", "tags"],
  properties: {
    id: { type: "integer" },
    name: { type: "string" },
    priceCents: { type: "integer" },
    tags: { type: "array", items: { type: "string" } }
  }
} as const
const newItem = {
  type: "object",
  required: ["name", "priceCents", "tags"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: maxNameLength },
    priceCents: { type: "integer", minimum: 0, maximum: maxPriceCents },
    tags: { type: "array", maxItems: maxTags, items: { type: "string", maxLength: maxTagLength } }
  }
} as const
const failure = { type: "object", properties: { _tag: { type: "string" }, message: { type: "string" } } } as const

const app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: false } } })
const create = creator()

app.get<{ Params: { id: string } }>("/items/:id", {
  schema: {
    params: { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^[0-9]{1,15}$" } } },
    response: {
      200: item,
      404: { type: "object", properties: { _tag: { type: "string" }, id: { type: "integer" } } },
      400: failure
    }
  }
}, async (request, reply) => {
  const id = Number(request.params.id)
  if (id < 1) return reply.code(400).send({ _tag: "BadRequest", message: "id: expected a positive integer" })
  if (id > catalogueSize) return reply.code(404).send({ _tag: "ItemNotFound", id })
  return itemOf(id)
})

app.post<{ Body: Omit<ItemShape, "id"> }>("/items", {
  schema: { body: newItem, response: { 201: item, 400: failure } }
}, async (request, reply) => reply.code(201).send(create(request.body)))

app.get("/readyz", {
  schema: { response: { 200: { type: "object", properties: { status: { type: "string" } } } } }
}, async () => ({ status: "ready" }))

listenFromEnv({
  listen: async (port, host) => {
    await app.listen({ port, host })
    const address = app.server.address()
    return typeof address === "object" && address !== null ? address.port : port
  },
  close: () => app.close()
})
