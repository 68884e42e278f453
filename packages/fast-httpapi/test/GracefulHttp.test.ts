/**
 * The drain suite of `GracefulHttp`, against the fast server: the same guarantees as the standard one.
 */
import * as GracefulHttpSuite from "@shop/lifecycle/testing/GracefulHttpSuite"
import * as Layer from "effect/Layer"
import * as FastHttpApi from "../src/FastHttpApi.js"

GracefulHttpSuite.run({
  name: "FastHttpApi",
  group: FastHttpApi.group,
  serve: (api) => FastHttpApi.layer().pipe(Layer.provide(api))
})
