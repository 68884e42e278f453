/**
 * The contract's own answers for bodies the platform cannot decode. (Empty error responses in
 * general get a JSON body from `GracefulHttp`; see `HttpJsonErrors` in @shop/lifecycle.)
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpMethod from "@effect/platform/HttpMethod"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { ShopApi } from "@shop/domain/Api"
import { MalformedJson } from "@shop/domain/Errors"
import * as Effect from "effect/Effect"

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
 * The database is out of reach: no pooled connection within `DATABASE_CONNECT_TIMEOUT` (saturated or
 * down), or the connection died under a query (server restart, killed backend). The service is
 * degraded, not broken — answer 503 with `Retry-After` instead of a 500. A write cut this way may or may
 * not have committed: a retry of a pay/cancel then gets its 409, an order retried with its
 * `Idempotency-Key` its original.
 */
const connectionLost =
  /^Failed to acquire connection|^Connection error|Connection terminated|not queryable|ECONNREFUSED|ECONNRESET|terminating connection|the database system is (starting up|shutting down|in recovery mode)/

export const isDatabaseUnavailable = (defect: unknown): boolean => {
  if (typeof defect !== "object" || defect === null || !("_tag" in defect) || defect._tag !== "SqlError") return false
  const message = "message" in defect && typeof defect.message === "string" ? defect.message : ""
  const cause = "cause" in defect && defect.cause instanceof Error ? defect.cause.message : ""
  return connectionLost.test(message) || connectionLost.test(cause)
}

export const databaseBusy = HttpServerResponse.unsafeJson(
  { _tag: "ServiceUnavailable", message: "the database is busy; retry shortly" },
  { status: 503, headers: { "retry-after": "1" } }
)

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
        : isDatabaseUnavailable(defect)
        ? Effect.as(Effect.logWarning("request answered 503: database unavailable", defect), databaseBusy)
        // the client sees "internal error" only: the operator must see why
        : Effect.zipRight(Effect.logError("request failed with a defect (500)", defect), Effect.die(defect))
    ))
)

const messageOf = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)
