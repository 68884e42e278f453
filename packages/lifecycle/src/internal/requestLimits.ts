/**
 * What GracefulHttp refuses before any handler runs, decided from the request head alone. Shared by
 * the Effect `HttpApp` path and by servers that answer on the Node response directly.
 *
 * @internal
 */
import type * as Http from "node:http"

/** A refusal: the status and the JSON body to send, always with `Connection: close`. */
export interface Refusal {
  readonly status: number
  readonly body: { readonly _tag: string; readonly message: string; readonly maxBytes?: number }
}

/** @internal */
export const refusal = (request: Http.IncomingMessage, maxBodySize: number): Refusal | undefined => {
  // Node's own check (requireHostHeader) answers with an empty body; it is off, so answer here.
  if (request.headers.host === undefined && request.httpVersion === "1.1") {
    return { status: 400, body: { _tag: "BadRequest", message: "an HTTP/1.1 request must have a Host header" } }
  }
  const declared = Number(request.headers["content-length"] ?? 0)
  if (declared > maxBodySize) {
    return {
      status: 413,
      body: {
        _tag: "PayloadTooLarge",
        message: `request body of ${declared} bytes exceeds the limit of ${maxBodySize} bytes`,
        maxBytes: maxBodySize
      }
    }
  }
  return undefined
}
