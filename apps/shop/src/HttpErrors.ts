/**
 * Every error response gets a JSON body that says what is wrong. The platform answers some errors
 * with an empty body (unknown route, unreadable JSON, defects); these fill it in — without stack
 * traces or internals on the wire.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMethod from "@effect/platform/HttpMethod"
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
 * Deeper JSON than any request of this API needs. Schema errors quote the value they rejected, and
 * quoting `[[[[…]]]]` nested a hundred thousand levels deep overflows the stack (a 500).
 */
const MaxJsonDepth = 64

/** How deeply `text` nests arrays and objects, counting no further than `limit + 1`. */
const nestingDepth = (text: string, limit: number) => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > limit) return depth
    } else if (c === 93 || c === 125) depth--
  }
  return 0
}

/** The platform decodes a body as JSON when it says so, or says nothing about its type. */
const contentTypeOf = (request: HttpServerRequest.HttpServerRequest) =>
  HttpMethod.hasBody(request.method) ? (request.headers["content-type"] ?? "application/json").toLowerCase() : ""

/**
 * Malformed JSON is a `RequestError` defect inside the platform's payload decoding (an empty 400);
 * turn it into the contract's `MalformedJson`, which names the parse error. Two more bodies get it
 * before decoding: JSON nested deeper than {@link MaxJsonDepth}, and multipart/form-data, which the
 * platform would parse (spooling files to disk) and which dies on a missing boundary (a 500).
 */
export const MalformedJsonLive = HttpApiBuilder.middleware(
  ShopApi,
  (app) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const contentType = contentTypeOf(request)
      if (contentType.includes("multipart/form-data")) {
        return yield* new MalformedJson({ message: "request body must be JSON, not multipart/form-data" })
      }
      if (contentType.includes("application/json")) {
        // the text is cached on the request: the payload decoder reads the same string, not the socket again
        const text = yield* Effect.option(request.text)
        if (text._tag === "Some" && nestingDepth(text.value, MaxJsonDepth) > MaxJsonDepth) {
          return yield* new MalformedJson({
            message: `request body is nested more than ${MaxJsonDepth} arrays or objects deep`
          })
        }
      }
      return yield* app
    }).pipe(Effect.catchAllDefect((defect) =>
      HttpServerError.isServerError(defect) && defect._tag === "RequestError" && defect.reason === "Decode"
        ? Effect.fail(new MalformedJson({ message: `request body is not valid JSON: ${messageOf(defect.cause)}` }))
        : Effect.die(defect)
    ))
)

const messageOf = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)
