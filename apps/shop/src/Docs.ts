/**
 * `GET /docs`: Swagger UI for the contract, built on the first request. `HttpApiSwagger.layer` embeds
 * Swagger UI's 2 MB of JavaScript and CSS in the code and builds the page when the layer is built, so
 * every process holds them from start to exit whether anyone reads the docs or not. That is a
 * measurable part of the shop's live heap, and under load V8 lets the old generation grow to about
 * four times the live heap before a full collection: each MB held counts several times in the peak
 * RSS (apps/bench/README.md, "RSS"). Here the page is made by HttpApiSwagger itself, in a chunk of its
 * own (`SwaggerPage.ts`), loaded and cached on the first `GET /docs`.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"

export const layer = (path: `/${string}`) =>
  HttpApiBuilder.Router.use((router) =>
    Effect.gen(function*() {
      const { api } = yield* HttpApi.Api
      // Only a page that was built is kept: a first request cut short (the client went away) or a
      // failed load leaves the next request to try again, instead of answering its failure forever.
      let built: HttpServerResponse.HttpServerResponse | undefined
      const page = Effect.suspend(() =>
        built !== undefined ? Effect.succeed(built) : Effect.tap(
          Effect.flatMap(Effect.promise(() => import("./SwaggerPage.js")), (module) => module.page(api, path)),
          (response) => {
            built = response
          }
        )
      )
      yield* router.get(path, page)
    })
  )
