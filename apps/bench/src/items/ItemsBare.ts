/**
 * The items API (ItemsApi) on `node:http` with hand-written checks, no framework: the floor.
 * `node dist/items/ItemsBare.js` with `PORT`, `HOST`.
 */
import * as Http from "node:http"
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

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const newItem = (body: unknown): Omit<ItemShape, "id"> | undefined => {
  if (!isRecord(body)) return undefined
  const { name, priceCents, tags } = body
  if (typeof name !== "string" || name.length < 1 || name.length > maxNameLength) return undefined
  if (typeof priceCents !== "number" || !Number.isInteger(priceCents) || priceCents < 0 || priceCents > maxPriceCents) {
    return undefined
  }
  if (!Array.isArray(tags) || tags.length > maxTags) return undefined
  if (!tags.every((tag) => typeof tag === "string" && tag.length <= maxTagLength)) return undefined
  return { name, priceCents, tags }
}

const send = (response: Http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  response.end(text)
}

const create = creator()
const server = Http.createServer((request, response) => {
  const url = request.url ?? "/"
  if (request.method === "GET" && url.startsWith("/items/")) {
    const text = url.slice("/items/".length)
    if (!/^[0-9]{1,15}$/.test(text) || Number(text) < 1) {
      return send(response, 400, { _tag: "BadRequest", message: "id: expected a positive integer" })
    }
    const id = Number(text)
    return id > catalogueSize ? send(response, 404, { _tag: "ItemNotFound", id }) : send(response, 200, itemOf(id))
  }
  if (request.method === "POST" && url === "/items") {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
      } catch {
        return send(response, 400, { _tag: "MalformedJson", message: "request body is not valid JSON" })
      }
      const input = newItem(body)
      return input === undefined
        ? send(response, 400, { _tag: "BadRequest", message: "expected name, priceCents and tags" })
        : send(response, 201, create(input))
    })
    return
  }
  if (request.method === "GET" && url === "/readyz") return send(response, 200, { status: "ready" })
  send(response, 404, { _tag: "NotFound", message: `no route for ${request.method} ${url}` })
})

listenFromEnv({
  listen: (port, host) =>
    new Promise((resolve, reject) => {
      server.once("error", reject)
      server.listen(port, host, () => {
        const address = server.address()
        resolve(typeof address === "object" && address !== null ? address.port : port)
      })
    }),
  close: () => new Promise<void>((resolve) => server.close(() => resolve()))
})
