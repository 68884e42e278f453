import * as Http from "node:http"
import * as Net from "node:net"

export interface Response {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** A plain request on a new connection, no keep-alive agent involved. */
export const request = (
  port: number,
  path: string,
  options: { readonly method?: string; readonly body?: string; readonly headers?: Record<string, string> } = {}
): Promise<Response> =>
  new Promise((resolve, reject) => {
    const req = Http.request(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers, agent: false },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk) => (body += chunk))
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }))
        res.on("error", reject)
      }
    )
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

/**
 * One raw HTTP/1.1 connection that stays open between requests, to exercise keep-alive exactly
 * (an Agent would silently open a new socket when the old one is gone).
 */
export const keepAliveConnection = (port: number) =>
  new Promise<{ get: (path: string) => Promise<Response>; closed: Promise<void>; socket: Net.Socket }>(
    (resolve, reject) => {
      const socket = Net.connect(port, "127.0.0.1")
      let buffer = ""
      let waiting: ((response: Response) => void) | undefined
      const closed = new Promise<void>((done) => socket.once("close", () => done()))
      const tryParse = () => {
        const end = buffer.indexOf("\r\n\r\n")
        if (end < 0 || !waiting) return
        const [statusLine, ...headerLines] = buffer.slice(0, end).split("\r\n")
        const headers: Record<string, string> = {}
        for (const line of headerLines) {
          const i = line.indexOf(":")
          headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
        }
        const length = Number(headers["content-length"] ?? 0)
        if (buffer.length < end + 4 + length) return
        const body = buffer.slice(end + 4, end + 4 + length)
        buffer = buffer.slice(end + 4 + length)
        const done = waiting
        waiting = undefined
        done({ status: Number(statusLine.split(" ")[1]), headers, body })
      }
      socket.setEncoding("utf8")
      socket.on("data", (chunk) => {
        buffer += chunk
        tryParse()
      })
      socket.once("error", reject)
      socket.once("connect", () =>
        resolve({
          socket,
          closed,
          get: (path) =>
            new Promise((done, fail) => {
              waiting = done
              socket.once("close", () => fail(new Error("connection closed before a response")))
              socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`)
            })
        }))
    }
  )
