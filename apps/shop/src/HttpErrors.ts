/**
 * Every error response gets a JSON body that says what is wrong. The platform answers some errors
 * with an empty body (unknown route, unreadable JSON, defects); these fill it in — without stack
 * traces or internals on the wire.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { ShopApi } from "@shop/domain/Api"
import { MalformedJson } from "@shop/domain/Errors"
import * as Effect from "effect/Effect"

const describe = (status: number, request: HttpServerRequest.HttpServerRequest) => {
  const path = request.url.split("?")[0]
  switch (status) {
    case 400:
      return { _tag: "BadRequest", message: "the request could not be read" }
    case 404:
      return { _tag: "NotFound", message: `no route for ${request.method} ${path}` }
    case 405:
      return { _tag: "MethodNotAllowed", message: `${request.method} is not allowed on ${path}` }
    case 413:
      return { _tag: "PayloadTooLarge", message: "the request body is too large" }
    case 503:
      return { _tag: "ServiceUnavailable", message: "the service is shutting down or overloaded; retry" }
    default:
      return status >= 500
        ? { _tag: "InternalServerError", message: "internal error" }
        : { _tag: "HttpError", message: `request failed with status ${status}` }
  }
}

/** Replaces an empty error response by a JSON one with the same status. */
export const jsonErrorBodies: HttpApp.PreResponseHandler = (request, response) =>
  Effect.succeed(
    response.status >= 400 && response.body._tag === "Empty"
      ? HttpServerResponse.unsafeJson(describe(response.status, request), {
        status: response.status,
        headers: response.headers
      })
      : response
  )

/**
 * Malformed JSON is a `RequestError` defect inside the platform's payload decoding (an empty 400);
 * turn it into the contract's `MalformedJson`, which names the parse error.
 */
export const MalformedJsonLive = HttpApiBuilder.middleware(
  ShopApi,
  (app) =>
    Effect.catchAllDefect(
      app,
      (defect) =>
        HttpServerError.isServerError(defect) && defect._tag === "RequestError" && defect.reason === "Decode"
          ? Effect.fail(new MalformedJson({ message: `request body is not valid JSON: ${messageOf(defect.cause)}` }))
          : Effect.die(defect)
    )
)

const messageOf = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)
