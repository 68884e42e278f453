/**
 * An OTLP/HTTP endpoint that accepts and counts what it is sent, as a collector would (its cost is
 * the bench process's, not the server's): where the traced stacks export their spans.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

export interface OtlpSink {
  readonly url: string
  /** Spans received so far. */
  readonly spans: () => number
}

export const start: Effect.Effect<OtlpSink, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<{ readonly sink: OtlpSink; readonly server: Http.Server }>((resume) => {
    let spans = 0
    const server = Http.createServer((request, response) => {
      let text = ""
      request.setEncoding("utf8")
      request.on("data", (chunk) => (text += chunk))
      request.on("end", () => {
        if (request.url === "/v1/traces") {
          for (const resource of JSON.parse(text).resourceSpans ?? []) {
            for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0
          }
        }
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      resume(Effect.succeed({ sink: { url: `http://127.0.0.1:${port}`, spans: () => spans }, server }))
    })
  }),
  ({ server }) => Effect.sync(() => server.close())
).pipe(Effect.map(({ sink }) => sink))
