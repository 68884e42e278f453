/**
 * The built peers, for `ShopProcess.start({ script })`. Resolved through `dist` so that the same paths come
 * out whether this module runs built (`dist/peers`) or from source under vitest (`src/peers`).
 */
import { fileURLToPath } from "node:url"

export const bareNodeJs = fileURLToPath(new URL("../../dist/peers/BareNode.js", import.meta.url))
export const fastifyJs = fileURLToPath(new URL("../../dist/peers/FastifyPeer.js", import.meta.url))
