/**
 * Writing answers on the Node response, byte for byte as the platform's `NodeHttpServer` writes the
 * same `HttpServerResponse` (headers, cookies, `HEAD`, bodies), plus the JSON body GracefulHttp gives
 * every empty error response.
 *
 * @internal
 */
import * as Cookies from "@effect/platform/Cookies"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as UrlParams from "@effect/platform/UrlParams"
import { HttpJsonErrors } from "@shop/lifecycle"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import type * as Http from "node:http"
import { Readable } from "node:stream"
import type { Encoded } from "./schemas.js"

export interface Target {
  readonly request: Http.IncomingMessage
  readonly response: Http.ServerResponse
  readonly maxBodySize: number
}

const describeEmpty = (target: Target, status: number) =>
  JSON.stringify(HttpJsonErrors.describe(status, target.request as { method: string; url: string }, target))

const end = (target: Target, status: number, headers: Http.OutgoingHttpHeaders, body: string | Uint8Array) => {
  const { response } = target
  if (response.writableEnded) return
  response.writeHead(status, headers)
  if (target.request.method === "HEAD") response.end()
  else response.end(body)
}

/** An empty answer; an empty error gets GracefulHttp's JSON body. */
export const writeEmpty = (target: Target, status: number, headers: Http.OutgoingHttpHeaders = {}) => {
  if (status < 400) return end(target, status, headers, "")
  const body = describeEmpty(target, status)
  end(
    target,
    status,
    { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    body
  )
}

/** A JSON body, as `HttpServerResponse.unsafeJson` makes it. */
export const writeJson = (
  target: Target,
  status: number,
  value: unknown,
  headers: Http.OutgoingHttpHeaders = {},
  contentType = "application/json"
) => {
  const body = JSON.stringify(value)
  end(target, status, { ...headers, "content-type": contentType, "content-length": Buffer.byteLength(body) }, body)
}

/**
 * A value encoded by one of the contract's schemas. Throws what `JSON.stringify` throws (a BigInt, a
 * cycle): the caller answers that as the platform does.
 */
export const writeEncoded = (
  target: Target,
  schema: Encoded,
  encoded: unknown,
  headers: Http.OutgoingHttpHeaders = {}
) => {
  switch (schema.kind) {
    case "Void":
      return writeEmpty(target, schema.status, headers)
    case "Json":
      return writeJson(target, schema.status, encoded, headers, schema.contentType)
    case "Text":
    case "UrlParams": {
      const body = schema.kind === "Text" ? String(encoded) : UrlParams.toString(encoded as UrlParams.UrlParams)
      return end(target, schema.status, {
        ...headers,
        "content-type": schema.contentType,
        "content-length": Buffer.byteLength(body)
      }, body)
    }
    case "Uint8Array": {
      const body = encoded as Uint8Array
      return end(target, schema.status, {
        ...headers,
        "content-type": schema.contentType,
        "content-length": body.length
      }, body)
    }
  }
}

const headersOf = (response: HttpServerResponse.HttpServerResponse): Http.OutgoingHttpHeaders => {
  if (Cookies.isEmpty(response.cookies)) return response.headers
  const headers: Record<string, string | Array<string>> = { ...response.headers }
  const toSet = Cookies.toSetCookieHeaders(response.cookies)
  if (headers["set-cookie"] !== undefined) toSet.push(headers["set-cookie"] as string)
  headers["set-cookie"] = toSet
  return headers
}

/**
 * An `HttpServerResponse` a handler returned (or the platform's answer to a failure). Stream and
 * form-data bodies are written by a fiber of `runtime`; returns it so a client abort can interrupt it.
 */
export const writeResponse = (
  target: Target,
  response: HttpServerResponse.HttpServerResponse,
  runtime: Runtime.Runtime<never>
): Fiber.RuntimeFiber<void, unknown> | undefined => {
  const { response: node } = target
  if (node.writableEnded) return undefined
  const body = response.body
  if (response.status >= 400 && body._tag === "Empty") {
    writeEmpty(target, response.status, response.headers)
    return undefined
  }
  const headers = headersOf(response)
  if (target.request.method === "HEAD") {
    node.writeHead(response.status, headers).end()
    return undefined
  }
  switch (body._tag) {
    case "Empty":
      node.writeHead(response.status, headers).end()
      return undefined
    case "Uint8Array":
      node.writeHead(response.status, headers).end(body.body)
      return undefined
    case "Raw": {
      node.writeHead(response.status, headers)
      const raw = body.body as { pipe?: unknown }
      if (typeof raw === "object" && raw !== null && typeof raw.pipe === "function") {
        ;(raw as Readable).pipe(node)
      } else {
        node.end(body.body as string | Uint8Array)
      }
      return undefined
    }
    case "FormData": {
      const web = new Response(body.formData)
      node.writeHead(response.status, { ...headers, ...Object.fromEntries(web.headers) })
      Readable.fromWeb(web.body as import("node:stream/web").ReadableStream).pipe(node)
      return undefined
    }
    case "Stream": {
      node.writeHead(response.status, headers)
      return Runtime.runFork(runtime)(writeStream(node, body.stream))
    }
  }
}

/** As the platform writes a stream: chunk by chunk, waiting for `drain` when the socket is full. */
const writeStream = (node: Http.ServerResponse, stream: Stream.Stream<Uint8Array, unknown>) => {
  const drained = Effect.unsafeMakeLatch()
  node.on("drain", () => drained.unsafeOpen())
  return stream.pipe(
    Stream.runForEachChunk((chunk) => {
      let full = false
      for (const bytes of Chunk.toReadonlyArray(chunk)) full = !node.write(bytes)
      if (!full) return Effect.void
      drained.unsafeClose()
      return drained.await
    }),
    Effect.matchCause({
      onSuccess: () => void node.end(),
      // headers are out: all that is left is to end the response early
      onFailure: () => void node.end()
    })
  )
}
