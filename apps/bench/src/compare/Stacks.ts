/**
 * The three HTTP stacks of the comparison, each started by `ShopProcess.start({ script })`: the shop
 * (its bundle, `script` undefined) and its two peers serving the same endpoints with the same SQL.
 */
import * as Peers from "../peers/Peers.js"

export const http = [
  { key: "shop", name: "shop", script: undefined },
  { key: "fastify", name: "Fastify", script: Peers.fastifyJs },
  { key: "bare", name: "bare node", script: Peers.bareNodeJs }
] as const

export type Key = typeof http[number]["key"]
