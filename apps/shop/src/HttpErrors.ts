/**
 * The contract's own answers for bodies the platform cannot decode, and the header of its 503.
 * (Empty error responses in general get a JSON body from `GracefulHttp`; see `HttpJsonErrors` in
 * @shop/lifecycle.)
 */
import * as HttpMethod from "@effect/platform/HttpMethod"
import { ShopApi } from "@shop/domain/Api"
import { MalformedJson, ServiceUnavailable } from "@shop/domain/Errors"
import { RequestPolicy } from "@shop/fast-httpapi"
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

/**
 * The shop's request policy (see `RequestPolicy` in @shop/fast-httpapi: both servers apply it the same
 * way). Malformed JSON is a `RequestError` defect inside the platform's payload decoding (an empty
 * 400); it becomes the contract's `MalformedJson`, which names the parse error. Two more bodies get it
 * before decoding: JSON nested deeper than {@link MaxJsonDepth}, and multipart/form-data, which the
 * platform would parse (spooling files to disk) and which dies on a missing boundary (a 500).
 */
export const shopPolicy: RequestPolicy.RequestPolicy<MalformedJson> = {
  checkRequest: (request) =>
    HttpMethod.hasBody(request.method as HttpMethod.HttpMethod) &&
      String(request.headers["content-type"] ?? "").toLowerCase().includes("multipart/form-data")
      ? new MalformedJson({ message: "request body must be JSON, not multipart/form-data" })
      : undefined,
  checkJsonText: (text) =>
    nestingDepth(text, MaxJsonDepth) > MaxJsonDepth
      ? new MalformedJson({ message: `request body is nested more than ${MaxJsonDepth} arrays or objects deep` })
      : undefined,
  malformedJson: (cause) => new MalformedJson({ message: `request body is not valid JSON: ${messageOf(cause)}` }),
  // the database out of reach is a ServiceUnavailable (see DatabaseEdge.ts): tell the client when to retry
  errorHeaders: (error) => error instanceof ServiceUnavailable ? retryAfter : undefined,
  // the client sees "internal error" only: the operator must see why
  onDefect: (defect) =>
    Effect.zipRight(Effect.logError("request failed with a defect (500)", defect), Effect.die(defect))
}

const retryAfter = { "retry-after": "1" }

export const RequestPolicyLive = RequestPolicy.layer(ShopApi, shopPolicy)

const messageOf = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)
