/**
 * An endpoint's schemas, compiled once at start-up into synchronous decoders and encoders that give
 * the same results as `HttpApiBuilder`'s: the same schemas, parse options, statuses and encodings.
 *
 * @internal
 */
import type * as HttpApi from "@effect/platform/HttpApi"

import type * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { withCompiled } from "./compiled.js"
import { normalizeUrlParams } from "./urlParams.js"

type Decoder = (input: unknown) => Either.Either<unknown, ParseResult.ParseError>

/** How one schema's values go on the wire. */
export interface Encoded {
  readonly ast: Schema.Schema.Any["ast"]
  readonly status: number
  readonly kind: HttpApiSchema.Encoding["kind"] | "Void"
  readonly contentType: string
  readonly encode: (value: unknown) => Either.Either<unknown, ParseResult.ParseError>
}

const encodedOf = (
  schema: Schema.Schema.Any,
  status: (ast: Schema.Schema.Any["ast"]) => number,
  compiled: boolean
): Encoded => {
  const encoding = HttpApiSchema.getEncoding(schema.ast)
  const encode = Schema.encodeUnknownEither(schema as Schema.Schema<unknown, unknown>)
  return {
    ast: schema.ast,
    status: status(schema.ast),
    kind: HttpApiSchema.isVoid(schema.ast) ? "Void" : encoding.kind,
    contentType: encoding.contentType,
    encode: compiled ? withCompiled(schema.ast, false, encode) : encode
  }
}

/**
 * A union's members as `HttpApiBuilder` encodes them: each with its own status; a value is encoded by
 * the first member that accepts it.
 */
const members = (
  schemas: Iterable<Schema.Schema.Any>,
  status: (ast: Schema.Schema.Any["ast"]) => number,
  compiled: boolean
) => {
  const set = new Set<Schema.Schema.Any>()
  for (const schema of schemas) HttpApiSchema.deunionize(set, schema)
  return Array.from(set, (schema) => encodedOf(schema, status, compiled))
}

/** The first member that encodes `value`, and what it made of it. */
export const encodeWith = (
  candidates: ReadonlyArray<Encoded>,
  value: unknown
): { readonly schema: Encoded; readonly encoded: unknown } | ParseResult.ParseError | undefined => {
  let firstError: ParseResult.ParseError | undefined
  for (const schema of candidates) {
    const result = schema.encode(value)
    if (Either.isRight(result)) return { schema, encoded: result.right }
    firstError ??= result.left
  }
  return firstError
}

/**
 * Every error schema of the API, in the order `HttpApiBuilder` unions them: the API's, then per group
 * its endpoints' and its own.
 */
export const errorSchemas = (api: HttpApi.HttpApi.AnyWithProps): ReadonlyArray<Encoded> => {
  const schemas: Array<Schema.Schema.Any> = [api.errorSchema]
  for (const group of Object.values(api.groups)) {
    for (const endpoint of Object.values(group.endpoints)) schemas.push(endpoint.errorSchema)
    schemas.push(group.errorSchema)
  }
  // not compiled: an error is tried against every error schema until one takes it, and each that does
  // not would cost the compiled attempt and ParseResult's
  return members(schemas, HttpApiSchema.getStatusErrorAST, false)
}

/**
 * The response the platform makes of an encoded value (`toResponseSchema` in `HttpApiBuilder`), for the
 * standard pipeline's policy; the fast server writes the same bytes straight to Node.
 */
export const responseOf = (
  schema: Encoded,
  encoded: unknown
): Effect.Effect<HttpServerResponse.HttpServerResponse, unknown> => {
  const options = { status: schema.status, contentType: schema.contentType }
  switch (schema.kind) {
    case "Void":
      return Effect.succeed(HttpServerResponse.empty({ status: schema.status }))
    case "Json":
      return HttpServerResponse.json(encoded, options)
    case "Text":
      return Effect.succeed(HttpServerResponse.text(encoded as string, options))
    case "Uint8Array":
      return Effect.succeed(HttpServerResponse.uint8Array(encoded as Uint8Array, options))
    case "UrlParams":
      return Effect.succeed(HttpServerResponse.urlParams(encoded as UrlParams.Input, options))
  }
}

/** The endpoint's decoders and success encoders. */
export interface EndpointSchemas {
  readonly decodePath: Decoder | undefined
  readonly decodePayload: Decoder | undefined
  readonly decodeHeaders: Decoder | undefined
  readonly decodeUrlParams: ((params: Record<string, string | Array<string>>) => ReturnType<Decoder>) | undefined
  readonly success: ReadonlyArray<Encoded>
}

const decoder = (schema: Option.Option<Schema.Schema.Any>): Decoder | undefined =>
  Option.match(schema, {
    onNone: () => undefined,
    onSome: (schema) =>
      withCompiled(schema.ast, true, Schema.decodeUnknownEither(schema as Schema.Schema<unknown, unknown>))
  })

export const compile = (endpoint: HttpApiEndpoint.HttpApiEndpoint.AnyWithProps): EndpointSchemas => {
  const urlParams = endpoint.urlParamsSchema
  const decodeUrlParams = decoder(urlParams)
  return {
    decodePath: decoder(endpoint.pathSchema),
    decodePayload: decoder(endpoint.payloadSchema),
    decodeHeaders: decoder(endpoint.headersSchema),
    decodeUrlParams: decodeUrlParams === undefined || urlParams._tag === "None"
      ? undefined
      // a key the schema expects as an array arrives as one when it was given once
      : (params) => decodeUrlParams(normalizeUrlParams(params, urlParams.value.ast)),
    success: members([endpoint.successSchema], HttpApiSchema.getStatusSuccessAST, true)
  }
}

/** A decode failure as `HttpApiBuilder` answers it. */
export const decodeError = (error: ParseResult.ParseError): HttpApiDecodeError =>
  Effect.runSync(HttpApiDecodeError.fromParseError(error))
