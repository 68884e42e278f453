/**
 * One `GET` on a connection of its own (`agent: false`: the request says `Connection: close`), so no
 * idle keep-alive socket is left open against a process we are about to stop — an open one would make
 * a graceful shutdown wait its idle grace, and a measurement would time us instead of the child.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import { HarnessError } from "./HarnessError.js"

export interface Answer {
  readonly status: number
  readonly body: string
}

export const get = (url: string, timeout: Duration.DurationInput = "5 seconds") =>
  Effect.async<Answer, HarnessError>((resume) => {
    const failed = (cause: unknown) => resume(Effect.fail(new HarnessError({ message: `GET ${url}: ${cause}`, cause })))
    const request = Http.get(url, { agent: false, timeout: Duration.toMillis(timeout) }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("error", failed)
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
    })
    request.on("timeout", () => request.destroy(new Error(`no answer within ${Duration.format(timeout)}`)))
    request.on("error", failed)
    return Effect.sync(() => request.destroy())
  })
