/**
 * An OTLP/HTTP endpoint on an ephemeral port of 127.0.0.1 that accepts JSON payloads as a collector
 * would: for tests that check what a process exports, and for benchmarks that need somewhere to
 * export to (then with `keep: false`, counting spans without holding them).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

/**
 * A span as OTLP/JSON writes it (`kind`: 2 server, 3 client).
 *
 * @since 0.1.0
 */
export interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: { readonly stringValue?: string } }>
}

/**
 * @since 0.1.0
 */
export interface OtlpReceiver {
  /** The base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string
  /** Spans received so far. */
  readonly spanCount: () => number
  /** Every payload received, by path (`/v1/traces`, `/v1/metrics`), when started with `keep`. */
  readonly received: ReadonlyArray<{ readonly path: string; readonly body: any }>
  /** The spans of the kept payloads. */
  readonly spans: () => Array<Span>
  /** The metrics of the kept payloads, as OTLP/JSON writes them. */
  readonly metrics: () => Array<any>
}

const spansIn = (body: any): Array<Span> =>
  (body.resourceSpans ?? []).flatMap((rs: any) => (rs.scopeSpans ?? []).flatMap((ss: any) => ss.spans ?? []))

/**
 * Listens until the scope closes.
 *
 * @since 0.1.0
 */
export const start = (options: { readonly keep: boolean }): Effect.Effect<OtlpReceiver, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly receiver: OtlpReceiver; readonly server: Http.Server }>((resume) => {
      const received: Array<{ path: string; body: any }> = []
      let spanCount = 0
      const server = Http.createServer((request, response) => {
        let text = ""
        request.setEncoding("utf8")
        request.on("data", (chunk) => (text += chunk))
        request.on("end", () => {
          const body = JSON.parse(text)
          if (request.url === "/v1/traces") spanCount += spansIn(body).length
          if (options.keep) received.push({ path: request.url ?? "", body })
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number }
        const of = (path: string) => received.filter((r) => r.path === path)
        resume(Effect.succeed({
          server,
          receiver: {
            url: `http://127.0.0.1:${port}`,
            spanCount: () => spanCount,
            received,
            spans: () => of("/v1/traces").flatMap((r) => spansIn(r.body)),
            metrics: () =>
              of("/v1/metrics").flatMap((r) =>
                r.body.resourceMetrics.flatMap((rm: any) => rm.scopeMetrics.flatMap((sm: any) => sm.metrics))
              )
          }
        }))
      })
    }),
    ({ server }) => Effect.sync(() => server.close())
  ).pipe(Effect.map(({ receiver }) => receiver))
