/**
 * One `GET` on a connection of its own (`agent: false`: the request says `Connection: close`), so no
 * idle keep-alive socket is left open against a process we are about to stop — an open one would make
 * the shop's shutdown wait its idle grace, and the bench would time itself instead of the shop.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import { BenchError } from "./BenchError.js"

/** The status and the body. */
export const get = (url: string, timeout: Duration.DurationInput = "5 seconds") =>
  Effect.async<{ readonly status: number; readonly body: string }, BenchError>((resume) => {
    const request = Http.get(url, { agent: false, timeout: Duration.toMillis(timeout) }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("error", (cause) => resume(Effect.fail(new BenchError({ message: `GET ${url}: ${cause}`, cause }))))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
    })
    request.on("timeout", () => request.destroy(new Error(`no answer within ${Duration.format(timeout)}`)))
    request.on("error", (cause) => resume(Effect.fail(new BenchError({ message: `GET ${url}: ${cause}`, cause }))))
    return Effect.sync(() => request.destroy())
  })
