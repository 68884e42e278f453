/**
 * A TCP port of 127.0.0.1 that nothing listens on right now (the OS picks it; we close it again).
 */
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import { HarnessError } from "./HarnessError.js"

export const freePort: Effect.Effect<number, HarnessError> = Effect.async((resume) => {
  const server = Net.createServer()
  server.once("error", (cause) => resume(Effect.fail(new HarnessError({ message: "no free port", cause }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})
