/**
 * The drain suite against the standard server: `HttpApiBuilder.serve` on `GracefulHttp`.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Layer from "effect/Layer"
import * as GracefulHttpSuite from "../src/testing/GracefulHttpSuite.js"

GracefulHttpSuite.run({
  name: "HttpApiBuilder.serve",
  group: HttpApiBuilder.group,
  serve: (api) => HttpApiBuilder.serve().pipe(Layer.provide(api))
})
