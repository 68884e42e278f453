/** `Carrier.layer` on its own: the SDK's URL, the development simulator, and production's refusal. */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { Carrier } from "../src/Carrier.js"
import { ShopConfig } from "../src/ShopConfig.js"

const carrierWith = (env: Record<string, string>) =>
  Carrier.layer.pipe(
    Layer.provide(ShopConfig.layer),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  )

const status = (url: string) =>
  Effect.promise(() => fetch(`${url}/v1/stats`).then((response) => response.status, () => "unreachable" as const))

describe("Carrier.layer", () => {
  it.scoped("with CARRIER_URL the SDK points there and no simulator starts", () =>
    Effect.gen(function*() {
      const carrier = Context.get(
        yield* Layer.build(carrierWith({ CARRIER_URL: "http://carrier.example:8081" })),
        Carrier
      )
      assert.strictEqual(carrier.url, "http://carrier.example:8081")
    }))

  it.live("without CARRIER_URL an in-process simulator serves until the layer is released", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const carrier = Context.get(yield* Layer.buildWithScope(carrierWith({}), scope), Carrier)
      assert.strictEqual(yield* status(carrier.url), 200)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(yield* status(carrier.url), "unreachable")
    }))

  it.scoped("NODE_ENV=production without CARRIER_URL refuses to start, naming the variable", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(carrierWith({ NODE_ENV: "production" })))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "CARRIER_URL is required when NODE_ENV=production")
    }))
})
