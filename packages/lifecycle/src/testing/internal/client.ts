/**
 * HTTP/1.1 clients for the drain tests, over plain TCP or TLS: plain requests, raw keep-alive
 * connections (an Agent would silently open a new socket when the old one is gone), connection attempts.
 *
 * @internal
 */
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Tls from "node:tls"

export interface Response {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** How to reach the server under test: `tls` for HTTPS (self-signed certificates are accepted). */
export interface Transport {
  readonly tls: boolean
}

/** A connected socket: TCP, or TLS once the handshake is done. */
export const connect = (transport: Transport, port: number): Promise<Net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = transport.tls
      ? Tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => resolve(socket))
      : Net.connect(port, "127.0.0.1", () => resolve(socket))
    socket.once("error", reject)
  })

/** A plain request on a new connection, no keep-alive agent involved. */
export const request = (
  transport: Transport,
  port: number,
  path: string,
  options: { readonly method?: string; readonly body?: string; readonly headers?: Record<string, string> } = {}
): Promise<Response> =>
  new Promise((resolve, reject) => {
    const requestOptions = {
      host: "127.0.0.1",
      port,
      path,
      method: options.method ?? "GET",
      headers: options.headers,
      agent: false as const,
      rejectUnauthorized: false
    }
    const onResponse = (res: Http.IncomingMessage) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk) => (body += chunk))
      res.on(
        "end",
        () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body })
      )
      res.on("error", reject)
    }
    const req = transport.tls ? Https.request(requestOptions, onResponse) : Http.request(requestOptions, onResponse)
    req.on("error", reject)
    req.end(options.body)
  })

/** Resolves with how a new TCP connection attempt ended. */
export const tryConnect = (port: number): Promise<"connected" | "refused"> =>
  new Promise((resolve, reject) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve("connected")
    })
    socket.once("error", (error: NodeJS.ErrnoException) =>
      error.code === "ECONNREFUSED" ? resolve("refused") : reject(error))
  })

export interface KeepAliveConnection {
  readonly socket: Net.Socket
  /** Resolves when the server (or anyone) closed the connection. */
  readonly closed: Promise<void>
  /** Sends a GET and resolves with the whole response (Content-Length or chunked framing). */
  readonly get: (path: string) => Promise<Response>
  /** Sends a GET and resolves as soon as the response head arrived; `rest` is the whole response. */
  readonly getHead: (path: string) => Promise<{ readonly head: Response; readonly rest: Promise<Response> }>
}

interface Parsed {
  readonly head: Response
  readonly complete: Response | undefined
  readonly consumed: number
}

const parse = (buffer: Buffer): Parsed | undefined => {
  const end = buffer.indexOf("\r\n\r\n")
  if (end < 0) return undefined
  const [statusLine, ...headerLines] = buffer.subarray(0, end).toString("latin1").split("\r\n")
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const i = line.indexOf(":")
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
  }
  const head = { status: Number(statusLine.split(" ")[1]), headers, body: "" }
  const rest = buffer.subarray(end + 4)
  if (headers["transfer-encoding"] === "chunked") {
    const chunks: Array<Buffer> = []
    let at = 0
    for (;;) {
      const lineEnd = rest.indexOf("\r\n", at)
      if (lineEnd < 0) return { head, complete: undefined, consumed: 0 }
      const size = parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16)
      if (rest.length < lineEnd + 2 + size + 2) return { head, complete: undefined, consumed: 0 }
      if (size === 0) {
        const body = Buffer.concat(chunks).toString("utf8")
        return { head, complete: { ...head, body }, consumed: end + 4 + lineEnd + 4 }
      }
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size))
      at = lineEnd + 2 + size + 2
    }
  }
  const length = Number(headers["content-length"] ?? 0)
  if (rest.length < length) return { head, complete: undefined, consumed: 0 }
  return { head, complete: { ...head, body: rest.subarray(0, length).toString("utf8") }, consumed: end + 4 + length }
}

/** One raw HTTP/1.1 connection that stays open between requests. */
export const keepAliveConnection = async (transport: Transport, port: number): Promise<KeepAliveConnection> => {
  const socket = await connect(transport, port)
  let buffer = Buffer.alloc(0)
  // chunks not yet in `buffer`: concatenating every chunk of a long body would be quadratic
  let pending: Array<Buffer> = []
  let pendingBytes = 0
  let needed = 0
  let onHead: ((head: Response) => void) | undefined
  let onComplete: ((response: Response) => void) | undefined
  let onClose: ((error: Error) => void) | undefined
  const closed = new Promise<void>((done) => socket.once("close", () => done()))
  socket.once("close", () => onClose?.(new Error("connection closed before a complete response")))
  socket.on("error", () => {})
  socket.on("data", (chunk: Buffer) => {
    pending.push(chunk)
    pendingBytes += chunk.length
    if (buffer.length + pendingBytes < needed) return
    buffer = Buffer.concat([buffer, ...pending])
    pending = []
    pendingBytes = 0
    const parsed = parse(buffer)
    if (parsed === undefined) return
    const length = Number(parsed.head.headers["content-length"] ?? 0)
    needed = parsed.complete ? 0 : buffer.indexOf("\r\n\r\n") + 4 + length
    if (onHead) {
      const notify = onHead
      onHead = undefined
      notify(parsed.head)
    }
    if (parsed.complete && onComplete) {
      buffer = buffer.subarray(parsed.consumed)
      const notify = onComplete
      onComplete = undefined
      notify(parsed.complete)
    }
  })
  const getHead = (path: string) =>
    new Promise<{ head: Response; rest: Promise<Response> }>((resolveHead, rejectHead) => {
      const rest = new Promise<Response>((resolve, reject) => {
        onComplete = resolve
        onClose = (error) => {
          reject(error)
          rejectHead(error)
        }
      })
      rest.catch(() => {})
      onHead = (head) => resolveHead({ head, rest })
      socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`)
    })
  return { socket, closed, getHead, get: (path) => getHead(path).then(({ rest }) => rest) }
}
