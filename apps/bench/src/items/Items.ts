/**
 * The built items servers, for `ShopProcess.start({ script })`, resolved through `dist` as
 * `peers/Peers.ts` does; and the request mixes the comparison sends them.
 */
import type autocannon from "autocannon"
import { fileURLToPath } from "node:url"
import { catalogueSize } from "./ItemsApi.js"

const built = (name: string) => fileURLToPath(new URL(`../../dist/items/${name}.js`, import.meta.url))

export const stacks = [
  { key: "fast", name: "shop's fast server", script: built("ItemsEffect"), env: { ITEMS_SERVER: "fast" } },
  // the same exporting every request's span over OTLP, to a receiver in the bench process (`otlp`)
  {
    key: "fastTraced",
    name: "shop's fast server, OTLP tracing",
    script: built("ItemsEffect"),
    env: { ITEMS_SERVER: "fast", OTEL_BSP_SCHEDULE_DELAY: "1000" },
    otlp: true
  },
  // as the standard server comes: Effect's tracer on (spans made, none exported), the one the target names
  {
    key: "standard",
    name: "HttpApiBuilder.serve",
    script: built("ItemsEffect"),
    env: { ITEMS_SERVER: "standard", TRACING: "true" }
  },
  // with the shop's setting, tracer off, as the fast server runs: what is left is the pipeline itself
  {
    key: "standardNoTracer",
    name: "HttpApiBuilder.serve, tracer off",
    script: built("ItemsEffect"),
    env: { ITEMS_SERVER: "standard" }
  },
  { key: "fastify", name: "Fastify", script: built("ItemsFastify"), env: {} },
  { key: "bare", name: "bare node", script: built("ItemsBare"), env: {} }
] as const

export type Key = typeof stacks[number]["key"]

/** A valid `POST /items` body. */
export const itemBody = (n: number): string =>
  JSON.stringify({ name: `bench item ${n}`, priceCents: (n * 13) % 100_000, tags: ["bench", `t${n % 7}`] })

/** `GET /items/{id}` over the whole catalogue. */
export const getItems = (): autocannon.Request => {
  let i = 0
  return {
    method: "GET",
    path: "/items/1",
    setupRequest: (request) => ({ ...request, path: `/items/${1 + (i++ % catalogueSize)}` })
  }
}

/** `POST /items`, each body different. */
export const createItems = (): autocannon.Request => {
  let n = 0
  return { method: "POST", path: "/items", setupRequest: (request) => ({ ...request, body: itemBody(n++) }) }
}
