/**
 * The Swagger UI page `HttpApiSwagger` serves for an API, as a value: its layer built on a router of
 * its own, and the response of the one route it adds. Loaded by `Docs.ts` with a dynamic `import()`,
 * so the bundle keeps Swagger UI in a chunk that only the first `GET /docs` loads.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export const page = (
  api: HttpApi.HttpApi.Any,
  path: `/${string}`
): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(
      HttpApiSwagger.layer({ path }).pipe(
        Layer.provideMerge(HttpApiBuilder.Router.Live),
        Layer.provide(Layer.succeed(HttpApi.Api, { api: api as never, context: Context.empty() }))
      )
    )
    const router = yield* Effect.provide(HttpApiBuilder.Router.router, context)
    // HttpApiSwagger's handler is the page itself (`Effect.succeed(response)`): it reads no request
    const handler = Chunk.unsafeHead(router.routes).handler
    return yield* (handler as unknown as Effect.Effect<HttpServerResponse.HttpServerResponse>)
  }))
