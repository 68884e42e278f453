/**
 * Every error response with a JSON body. The platform answers some errors with an empty body
 * (unknown route, unreadable body, a defect: 500, a server-side interrupt: 503); a client then
 * learns nothing. `GracefulHttp` applies {@link preResponseHandler} to every app it serves, so a
 * service built on it never sends an empty 4xx/5xx — without stack traces or internals.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"

/**
 * What {@link describe} may say about the server's limits.
 *
 * @since 0.2.0
 */
export interface Limits {
  /** The largest request body accepted, in bytes: a 413 names it as `maxBytes`. */
  readonly maxBodySize?: number | undefined
}

/**
 * The JSON body for an empty error response: `{ _tag, message }` (and `maxBytes` on a 413, when known).
 *
 * @since 0.1.0
 */
export const describe = (
  status: number,
  request: { readonly method: string; readonly url: string },
  limits: Limits = {}
): { readonly _tag: string; readonly message: string; readonly maxBytes?: number } => {
  const path = request.url.split("?")[0]
  switch (status) {
    case 400:
      return { _tag: "BadRequest", message: "the request could not be read" }
    case 404:
      return { _tag: "NotFound", message: `no route for ${request.method} ${path}` }
    case 405:
      return { _tag: "MethodNotAllowed", message: `${request.method} is not allowed on ${path}` }
    case 413:
      return limits.maxBodySize === undefined
        ? { _tag: "PayloadTooLarge", message: "the request body is too large" }
        : {
          _tag: "PayloadTooLarge",
          message: `the request body exceeds the limit of ${limits.maxBodySize} bytes`,
          maxBytes: limits.maxBodySize
        }
    case 503:
      return { _tag: "ServiceUnavailable", message: "the service is shutting down or overloaded; retry" }
    default:
      return status >= 500
        ? { _tag: "InternalServerError", message: "internal error" }
        : { _tag: "HttpError", message: `request failed with status ${status}` }
  }
}

/**
 * Replaces an empty error response by a JSON one with the same status and headers.
 *
 * @since 0.2.0
 */
export const preResponseHandlerWith = (limits: Limits): HttpApp.PreResponseHandler => (request, response) =>
  Effect.succeed(
    response.status >= 400 && response.body._tag === "Empty"
      ? HttpServerResponse.unsafeJson(describe(response.status, request, limits), {
        status: response.status,
        headers: response.headers
      })
      : response
  )

/**
 * {@link preResponseHandlerWith} without limits.
 *
 * @since 0.1.0
 */
export const preResponseHandler: HttpApp.PreResponseHandler = preResponseHandlerWith({})
