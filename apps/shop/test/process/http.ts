/**
 * Talking to a started process the way a client does: a request on a new connection, a bare TCP
 * connect, a metric out of a `/metrics` body, and the order of log messages.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import * as Net from "node:net"

/** Indices of `expected` (prefixes of messages) found in this order in `messages`; fails naming the first missing one. */
export const assertInOrder = (messages: ReadonlyArray<string>, expected: ReadonlyArray<string>) => {
  let from = 0
  for (const prefix of expected) {
    const index = messages.findIndex((message, i) => i >= from && message.includes(prefix))
    if (index < 0) {
      throw new Error(`"${prefix}" not found after position ${from} in:\n${messages.map((m) => `  ${m}`).join("\n")}`)
    }
    from = index + 1
  }
}

export interface Response {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  readonly json: any
}

/**
 * A request on a new connection (no agent), to 127.0.0.1. Fails with the socket error (its `code`),
 * or with `code: "TEST_TIMEOUT"` when no answer came within 15 seconds.
 */
export const request = (
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {}
): Effect.Effect<Response, NodeJS.ErrnoException> =>
  Effect.async<Response, NodeJS.ErrnoException>((resume) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = Http.request({
      host: "127.0.0.1",
      port,
      method,
      path,
      agent: false,
      headers: payload === undefined ? headers : { "content-type": "application/json", ...headers }
    }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk) => (text += chunk))
      res.on("error", (error) => resume(Effect.fail(error)))
      res.on("end", () => {
        let json: unknown = undefined
        try {
          json = JSON.parse(text)
        } catch {
          // not JSON (metrics)
        }
        resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, body: text, json }))
      })
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end(payload)
    return Effect.sync(() => req.destroy())
  }).pipe(
    Effect.timeoutFail({
      duration: "15 seconds",
      onTimeout: () =>
        Object.assign(new Error(`${method} ${path}: no answer within 15 s`), {
          code: "TEST_TIMEOUT"
        }) as NodeJS.ErrnoException
    })
  )

/** How a new TCP connection attempt ends: accepted, or refused (nothing listens). */
export const tryConnect = (port: number): Effect.Effect<"connected" | "refused", Error> =>
  Effect.async((resume) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed("connected"))
    })
    socket.once("error", (error: NodeJS.ErrnoException) =>
      resume(error.code === "ECONNREFUSED" ? Effect.succeed("refused") : Effect.fail(error)))
    return Effect.sync(() =>
      socket.destroy()
    )
  })

/**
 * A counter or gauge from a `/metrics` body: the sum over its label sets that carry every label of
 * `labels`; 0 when absent.
 */
export const metric = (text: string, name: string, labels: Readonly<Record<string, string>> = {}) =>
  text.split("\n")
    .filter((line) =>
      line.startsWith(name) && /^[\w]+(\{[^}]*\})? /.test(line) && line.split(/[{ ]/)[0] === name &&
      Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0)
