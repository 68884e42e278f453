/**
 * What an API does with a request before and around its handlers — refusals by head or by body text,
 * the answer to a body that is not JSON, the answer to a defect — written once and applied the same
 * way by both servers: as an `HttpApiBuilder.middleware` for the standard one, natively by the fast one.
 *
 * The fast server cannot run an arbitrary `HttpApiBuilder.middleware` (it would need the whole Effect
 * request pipeline it exists to avoid); when it finds one that is not a policy, it serves every route
 * with the standard handler and says so once at start-up.
 *
 * @since 0.1.0
 */
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMethod from "@effect/platform/HttpMethod"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import type * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import { type Encoded, encodeWith, errorSchemas, responseOf } from "./internal/schemas.js"

/**
 * The request as a policy sees it before anything is read.
 *
 * @since 0.1.0
 */
export interface RequestHead {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

/**
 * Hooks of a policy; each is optional. `E` is the API's error type: what they fail with is answered
 * with the contract's schema and status, like an error of a handler.
 *
 * The per-request hooks are plain functions (no Effect): they run on the fast path of every request.
 *
 * @since 0.1.0
 */
export interface RequestPolicy<E> {
  /** Runs first, for every request. Return an error to refuse the request. */
  readonly checkRequest?: ((request: RequestHead) => E | undefined) | undefined
  /** Runs on the text of a JSON body (a request with a body and a JSON or no content type), before it is parsed. */
  readonly checkJsonText?: ((text: string) => E | undefined) | undefined
  /** The answer to a body that cannot be read as JSON (the platform's: an empty 400). */
  readonly malformedJson?: ((cause: unknown) => E) | undefined
  /**
   * Headers added to the answer to any error of the contract (a handler's, a group's or a hook's), e.g.
   * `Retry-After` on a 503: an `HttpApi` error schema gives a status and a body, never a header.
   */
  readonly errorHeaders?: ((error: unknown) => Readonly<Record<string, string>> | undefined) | undefined
  /** The answer to a defect of a handler (the platform's: 500, or the response the defect carries). */
  readonly onDefect?: ((defect: unknown) => Effect.Effect<HttpServerResponse.HttpServerResponse, E>) | undefined
}

/** The platform's decision: a body is JSON when it says so, or says nothing about its type. */
export const isJsonBody = (method: string, contentType: string | ReadonlyArray<string> | undefined): boolean =>
  HttpMethod.hasBody(method as HttpMethod.HttpMethod) &&
  (contentType === undefined || String(contentType).toLowerCase().includes("application/json"))

const isBodyDecodeError = (defect: unknown): defect is HttpServerError.RequestError =>
  HttpServerError.isServerError(defect) && defect._tag === "RequestError" && defect.reason === "Decode"

/**
 * Applies a policy in the standard Effect pipeline (what the fast server does natively, in the same order).
 *
 * @internal
 */
export const toHttpApp = <E>(policy: RequestPolicy<E>, errors: ReadonlyArray<Encoded>) =>
(
  app: HttpApp.Default
): HttpApp.Default<E> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const refused = policy.checkRequest?.(request)
    if (refused !== undefined) return yield* Effect.fail(refused)
    if (policy.checkJsonText !== undefined && isJsonBody(request.method, request.headers["content-type"])) {
      // cached on the request: the payload decoder reads this string, not the socket again
      const text = yield* Effect.option(request.text)
      const tooBad = text._tag === "Some" ? policy.checkJsonText(text.value) : undefined
      if (tooBad !== undefined) return yield* Effect.fail(tooBad)
    }
    return yield* app
  }).pipe(
    Effect.catchAllDefect((defect): Effect.Effect<HttpServerResponse.HttpServerResponse, E> =>
      policy.malformedJson !== undefined && isBodyDecodeError(defect)
        ? Effect.fail(policy.malformedJson(defect.cause))
        : policy.onDefect !== undefined
        ? policy.onDefect(defect)
        : Effect.die(defect)
    ),
    policy.errorHeaders === undefined ? identity : Effect.catchAll((error) => withHeaders(policy, errors, error))
  )

/**
 * The answer to an API error that the policy gives headers: encoded here as the platform would encode
 * it after the middleware, with the headers added; every other error is left to the platform.
 */
const withHeaders = <E>(
  policy: RequestPolicy<unknown>,
  errors: ReadonlyArray<Encoded>,
  error: E
): Effect.Effect<HttpServerResponse.HttpServerResponse, E> => {
  const headers = policy.errorHeaders?.(error)
  const encoded = headers === undefined ? undefined : encodeWith(errors, error)
  if (encoded === undefined || ParseResult.isParseError(encoded)) return Effect.fail(error)
  return responseOf(encoded.schema, encoded.encoded).pipe(
    Effect.map(HttpServerResponse.setHeaders(headers!)),
    Effect.orElse(() => Effect.fail(error))
  )
}

const PolicyMarker = Symbol.for("@shop/fast-httpapi/RequestPolicy")
const probe = { [PolicyMarker]: "probe" } as unknown as HttpApp.Default

interface Marked {
  readonly [PolicyMarker]: RequestPolicy<unknown>
}

/**
 * The policy behind the API's middleware, when that is exactly one policy and nothing else. The
 * composed middleware is applied to a probe app (building Effects, running nothing): a policy answers
 * the probe with itself, any other middleware wraps whatever it gets.
 *
 * @internal
 */
export const recognise = (
  middleware: (app: HttpApp.Default) => unknown
): { readonly _tag: "None" } | { readonly _tag: "Policy"; readonly policy: RequestPolicy<unknown> } | {
  readonly _tag: "Other"
} => {
  const applied = middleware(probe)
  if (applied === probe) return { _tag: "None" }
  if (typeof applied === "object" && applied !== null && PolicyMarker in applied) {
    return { _tag: "Policy", policy: (applied as Marked)[PolicyMarker] }
  }
  return { _tag: "Other" }
}

/**
 * The policy as an API-level middleware layer: provide it where you would provide an
 * `HttpApiBuilder.middleware`. The standard server applies it; the fast server recognises it and
 * applies it natively.
 *
 * @since 0.1.0
 */
export const layer = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  policy: RequestPolicy<NoInfer<E>>
): Layer.Layer<never> => {
  // only a policy that adds headers encodes errors itself
  const errors = policy.errorHeaders === undefined ? [] : errorSchemas(api as unknown as HttpApi.HttpApi.AnyWithProps)
  const middleware = toHttpApp(policy, errors)
  return HttpApiBuilder.middleware(
    api,
    ((app: HttpApp.Default) => app === probe ? { [PolicyMarker]: policy } : middleware(app)) as any
  )
}
