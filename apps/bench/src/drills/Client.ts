/**
 * One HTTP request to a replica on 127.0.0.1, over a shared keep-alive agent, and what became of it:
 * a complete response, a refused connection (nothing listens: fine), or a broken exchange — with the
 * stage it broke at and whether it rode on a reused keep-alive connection, because that is what
 * tells a graceful-shutdown bug (a reset after the request was sent) from a harmless refusal.
 */
import * as Http from "node:http"

export type Stage =
  /** No TCP connection yet (a refusal is reported as `Refused`, not here). */
  | "connecting"
  /** Connected (or a reused connection assigned), the request not fully written yet. */
  | "sending"
  /** The request was written; no response byte yet. */
  | "awaiting-response"
  /** Response headers arrived; the body did not complete. */
  | "mid-response"

export type Outcome =
  | { readonly _tag: "Response"; readonly status: number; readonly json: any; readonly reused: boolean }
  | { readonly _tag: "Refused" }
  | {
    readonly _tag: "Broken"
    readonly code: string
    readonly message: string
    readonly stage: Stage
    readonly reused: boolean
    readonly at: number
  }
  | { readonly _tag: "Timeout"; readonly stage: Stage; readonly reused: boolean }

export const newAgent = () => new Http.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 16 })

/** No answer within this: a failure of its own (`Timeout`). */
export const requestTimeoutMs = 15_000

/** Reads a response to its end: its JSON body (`undefined` when not JSON), or a break when it closes early. */
const readBody = (
  res: Http.IncomingMessage,
  broken: (error: NodeJS.ErrnoException) => void,
  done: (json: unknown) => void
) => {
  let text = ""
  res.setEncoding("utf8")
  res.on("data", (chunk: string) => (text += chunk))
  res.on("error", broken)
  res.on("end", () => {
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch {
      // not JSON
    }
    done(json)
  })
  res.on("close", () => {
    if (!res.complete) broken(Object.assign(new Error("response closed before its end"), { code: "ECONNRESET" }))
  })
}

export const request = (
  agent: Http.Agent,
  port: number,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Outcome> =>
  new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    let stage: Stage = "connecting"
    let reused = false
    let settled = false
    const settle = (outcome: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    let connected = false
    let written = false
    const broken = (error: NodeJS.ErrnoException) =>
      error.code === "ECONNREFUSED"
        ? settle({ _tag: "Refused" })
        : settle({
          _tag: "Broken",
          code: error.code ?? "unknown",
          message: error.message,
          stage,
          reused,
          at: Date.now()
        })

    const req = Http.request({
      host: "127.0.0.1",
      port,
      method,
      path,
      agent,
      headers: {
        ...headers,
        ...(payload === undefined
          ? {}
          : { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) })
      }
    }, (res) => {
      stage = "mid-response"
      readBody(res, broken, (json) => settle({ _tag: "Response", status: res.statusCode ?? 0, json, reused }))
    })
    // the request counts as sent once it is written and the connection is up, in either order
    const advance = () => {
      if (stage === "mid-response") return
      stage = !connected ? "connecting" : written ? "awaiting-response" : "sending"
    }
    req.on("socket", (socket) => {
      reused = req.reusedSocket
      if (socket.connecting) {
        socket.once("connect", () => {
          connected = true
          advance()
        })
      } else {
        connected = true
        advance()
      }
    })
    req.on("finish", () => {
      written = true
      advance()
    })
    req.on("error", broken)
    const timer = setTimeout(() => {
      settle({ _tag: "Timeout", stage, reused })
      req.destroy()
    }, requestTimeoutMs)
    req.end(payload)
  })
