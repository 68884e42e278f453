import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Path from "node:path"
import { afterEach } from "vitest"
import * as Child from "../src/Child.js"
import * as FreePort from "../src/FreePort.js"
import * as Leftovers from "../src/Leftovers.js"
import * as Readiness from "../src/Readiness.js"

const script = Path.join(import.meta.dirname, "fixture.mjs")
const own = (line: { readonly annotations: Record<string, unknown> }) => line.annotations.service === undefined

const start = (env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const port = yield* FreePort.freePort
    const child = yield* Child.start({ script, cwd: import.meta.dirname, env: { ...env, PORT: String(port) }, own })
    return { child, url: `http://127.0.0.1:${port}` }
  })

afterEach(Leftovers.killLeftovers)

describe("Child", () => {
  it.scopedLive("readiness is reached; the start → ready time covers the 503s", () =>
    Effect.gen(function*() {
      const { child, url } = yield* start({ FIXTURE_READY_AFTER: "300" })
      const startToReady = yield* Readiness.waitReady(child, `${url}/readyz`, { bound: "10 seconds" })
      assert.isAtLeast(Duration.toMillis(startToReady), 300)
      assert.isTrue(Option.isSome(yield* child.rss))
    }))

  it.scopedLive("a string match sees the own lines only; raw output is kept apart", () =>
    Effect.gen(function*() {
      const { child, url } = yield* start()
      const line = yield* child.waitForLog("Listening on")
      assert.strictEqual(line.message, url.replace("http://", "Listening on http://"))
      yield* child.waitForOutput(/^not json$/)
      assert.deepStrictEqual(child.lines.map((l) => l.message).slice(0, 1), ["Listening on http://127.0.0.1:0"])
    }))

  it.scopedLive("SIGTERM: the exit code, when and how long it took", () =>
    Effect.gen(function*() {
      const { child } = yield* start({ FIXTURE_EXIT_CODE: "7" })
      yield* child.waitForLog("Listening on")
      const terminated = yield* child.terminate("10 seconds")
      assert.strictEqual(terminated.code, 7)
      assert.strictEqual(terminated.signal, null)
      assert.isAtLeast(terminated.exitedAt, terminated.signalledAt)
      assert.deepStrictEqual(child.signalled()?.signal, "SIGTERM")
      assert.isTrue(child.lines.some((line) => line.message === "stopping"))
      assert.isTrue(Option.isNone(yield* child.rss))
    }))

  it.scopedLive("waitForLog fails with the child's output when it exits first", () =>
    Effect.gen(function*() {
      const { child } = yield* start({ FIXTURE_MODE: "crash" })
      const error = yield* Effect.flip(child.waitForLog("Listening on"))
      assert.include(error.message, "no log line Listening on before the end")
      assert.include(error.message, "fixture: cannot start")
      assert.strictEqual((yield* child.awaitExit()).code, 3)
    }))

  it.live("killLeftovers SIGKILLs a child whose scope never closed", () =>
    Effect.gen(function*() {
      const { child } = yield* start().pipe(Scope.extend(yield* Scope.make()))
      yield* child.waitForLog("Listening on")
      Leftovers.killLeftovers()
      const exited = yield* child.awaitExit()
      assert.strictEqual(exited.signal, "SIGKILL")
    }))

  it.live("a missing script is refused before anything is spawned", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Child.start({ script: "/nonexistent.js", cwd: "/" })))
      assert.include(error.message, "/nonexistent.js does not exist")
    }))
})
