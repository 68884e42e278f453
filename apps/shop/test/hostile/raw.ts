/**
 * A raw HTTP/1.1 client over `node:net`, for requests `fetch` refuses to send (unnormalised paths,
 * bytes that are not UTF-8, lying `Content-Length`s, bodies sent slowly or never finished) and for
 * seeing exactly what the server puts on the wire.
 */
import * as Effect from "effect/Effect"
import * as Net from "node:net"

export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  /** The server closed the connection (rather than the client timing out). */
  readonly closed: boolean
  readonly elapsedMs: number
}

/** Splits what the server sent into status, headers and (de-chunked) body. */
export const parseResponse = (data: Buffer): Omit<RawResponse, "closed" | "elapsedMs"> => {
  // skip interim responses (100 Continue)
  while (/^HTTP\/1\.[01] 1\d\d /.test(data.subarray(0, 13).toString("latin1")) && data.includes("\r\n\r\n")) {
    data = data.subarray(data.indexOf("\r\n\r\n") + 4)
  }
  const end = data.indexOf("\r\n\r\n")
  if (end < 0) return { status: 0, headers: {}, body: data.toString("latin1") }
  const [statusLine, ...lines] = data.subarray(0, end).toString("latin1").split("\r\n")
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(":")
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let rest = data.subarray(end + 4)
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const chunks: Array<Buffer> = []
    for (;;) {
      const lineEnd = rest.indexOf("\r\n")
      if (lineEnd < 0) break
      const size = parseInt(rest.subarray(0, lineEnd).toString("latin1"), 16)
      if (!(size > 0)) break
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size))
      rest = rest.subarray(lineEnd + 2 + size + 2)
    }
    rest = Buffer.concat(chunks)
  } else if (headers["content-length"] !== undefined) {
    rest = rest.subarray(0, Number(headers["content-length"]))
  }
  return { status, headers, body: rest.toString("utf8") }
}

const complete = (data: Buffer) => {
  const end = data.indexOf("\r\n\r\n")
  if (end < 0) return false
  const { headers } = parseResponse(data)
  if (headers["content-length"] !== undefined) return data.length - end - 4 >= Number(headers["content-length"])
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") return data.subarray(end).includes("\r\n0\r\n\r\n")
  return false
}

export interface RawOptions {
  /** Give up (and destroy the socket) after this many milliseconds. */
  readonly timeoutMs?: number
  /** Sent one after the other, `delayMs` apart: a slow client. */
  readonly parts?: ReadonlyArray<string | Uint8Array>
  readonly delayMs?: number
}

/**
 * Writes `head` (and `parts`), then reads one response: until it is complete by its own framing,
 * the server closes the connection, or `timeoutMs` passes.
 */
export const raw = (port: number, head: string | Uint8Array, options: RawOptions = {}): Effect.Effect<RawResponse> =>
  Effect.async<RawResponse>((resume) => {
    const started = Date.now()
    const chunks: Array<Buffer> = []
    const timers: Array<ReturnType<typeof setTimeout>> = []
    let done = false
    const socket = Net.connect({ port, host: "127.0.0.1" })
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      for (const timer of timers) clearTimeout(timer)
      socket.destroy()
      const data = Buffer.concat(chunks)
      resume(Effect.succeed({ ...parseResponse(data), closed, elapsedMs: Date.now() - started }))
    }
    socket.on("data", (chunk) => {
      chunks.push(chunk)
      if (complete(Buffer.concat(chunks))) finish(false)
    })
    socket.on("end", () => finish(true))
    socket.on("close", () => finish(true))
    socket.on("error", () => finish(true)) // a reset is a close, as far as the client can tell
    socket.on("connect", () => {
      socket.write(head)
      ;(options.parts ?? []).forEach((part, i) => {
        timers.push(setTimeout(() => {
          if (!done && socket.writable) socket.write(part)
        }, (i + 1) * (options.delayMs ?? 0)))
      })
    })
    timers.push(setTimeout(() => finish(false), options.timeoutMs ?? 10_000))
    return Effect.sync(() => finish(false))
  })

/** A complete request as text: `Host`, `Connection: close` and, with a body, its `Content-Length`. */
export const request = (
  method: string,
  target: string,
  options: {
    readonly body?: string | Uint8Array | undefined
    readonly headers?: Record<string, string | undefined>
  } = {}
): Buffer => {
  const body = options.body === undefined ? undefined : Buffer.from(options.body)
  const headers: Record<string, string | undefined> = {
    host: "127.0.0.1",
    connection: "close",
    ...(body === undefined ? {} : { "content-type": "application/json", "content-length": String(body.length) }),
    ...options.headers
  }
  // header names and values go out as given, byte for byte (latin1): `undefined` leaves a header out
  const head = `${method} ${target} HTTP/1.1\r\n${
    Object.entries(headers).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  }\r\n`
  return Buffer.concat([Buffer.from(head, "latin1"), body ?? Buffer.alloc(0)])
}
