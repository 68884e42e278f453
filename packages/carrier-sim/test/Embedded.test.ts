import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import * as Net from "node:net"
import { CarrierSim } from "../src/CarrierSim.js"

/** One raw HTTP/1.1 request on a connection that then stays open, idle (as an SDK's keep-alive pool leaves it). */
const idleKeepAlive = (port: number) =>
  new Promise<{ closed: Promise<"closed"> }>((resolve, reject) => {
    const socket = Net.connect(port, "127.0.0.1")
    const closed = new Promise<"closed">((done) => socket.once("close", () => done("closed")))
    socket.once("error", reject)
    socket.once("data", () => resolve({ closed }))
    socket.write("GET /healthz HTTP/1.1\r\nHost: sim\r\n\r\n")
  })

describe("embedded", () => {
  // TestClock: nothing passes the 250 ms a standalone simulator gives idle connections, so the close
  // completes only if the embedded one gives them none.
  it.effect("releasing the layer closes the host's idle keep-alive connections at once", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const sim = yield* Layer.buildWithScope(CarrierSim.layer({ latency: "0 millis", jitter: "0 millis" }), scope)
        .pipe(Effect.map(Context.get(CarrierSim)), Logger.withMinimumLogLevel(LogLevel.Warning))
      const connection = yield* Effect.promise(() => idleKeepAlive(sim.port))
      yield* Effect.fork(Effect.uninterruptible(Scope.close(scope, Exit.void)))
      // a real-time bound, only to fail rather than hang if the connection is kept for the grace
      const outcome = yield* Effect.promise(() =>
        Promise.race([
          connection.closed,
          new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), 5_000).unref())
        ])
      )
      assert.strictEqual(outcome, "closed")
    }))
})
