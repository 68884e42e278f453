/**
 * Node answers what it cannot hand to a request handler itself — unparseable requests, headers too
 * large or too slow, bodies too slow, an unknown `Expect` — with an empty body, and `CONNECT` with no
 * answer at all. These listeners send the same statuses with the JSON body every other error has.
 *
 * @internal
 */
import * as Http from "node:http"
import type * as Net from "node:net"

/** A complete error response written straight to a socket no request handler owns. */
const writeError = (socket: Net.Socket, status: number, error: ClientError) => {
  const body = JSON.stringify(error)
  socket.write(
    `HTTP/1.1 ${status} ${Http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  )
}

interface ClientError {
  readonly _tag: string
  readonly message: string
  readonly maxBytes?: number
}

interface Limits {
  readonly requestTimeout: number
  readonly headersTimeout: number
  readonly maxBodySize: number
}

/** The status Node itself would answer a client error with, and a JSON error saying why. */
const clientErrorOf = (error: NodeJS.ErrnoException, limits: Limits): [number, ClientError] => {
  switch (error.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, {
        _tag: "RequestTimeout",
        message:
          `the request was not received in time (headers within ${limits.headersTimeout} ms, all of it within ${limits.requestTimeout} ms)`
      }]
    case "HPE_HEADER_OVERFLOW":
      return [431, { _tag: "RequestHeaderFieldsTooLarge", message: "the request headers are too large" }]
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      // every 413 names the body limit, so it reads as the one a client already knows
      return [413, {
        _tag: "PayloadTooLarge",
        message: "the chunk extensions are too large",
        maxBytes: limits.maxBodySize
      }]
    default:
      return [400, {
        _tag: "BadRequest",
        message: `the request is not valid HTTP/1.1 (${error.code ?? error.message})`
      }]
  }
}

/** @internal */
export const installJsonClientErrors = (server: Http.Server, limits: Limits): void => {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Net.Socket) => {
    // as Node does: say nothing if a response on this socket has started already
    const inFlight = (socket as { _httpMessage?: Http.ServerResponse | null })._httpMessage
    if (socket.writable && error.code !== "ECONNRESET" && !inFlight?.headersSent) {
      writeError(socket, ...clientErrorOf(error, limits))
    }
    socket.destroy()
  })
  server.on("connect", (_request: Http.IncomingMessage, socket: Net.Socket) => {
    writeError(socket, 405, { _tag: "MethodNotAllowed", message: "CONNECT is not supported" })
    socket.destroy()
  })
  server.on("checkExpectation", (request: Http.IncomingMessage, response: Http.ServerResponse) => {
    const body = JSON.stringify({
      _tag: "ExpectationFailed",
      message: `only "Expect: 100-continue" is supported, not "${request.headers.expect}"`
    })
    response.writeHead(417, { "content-type": "application/json", connection: "close" }).end(body)
  })
}
