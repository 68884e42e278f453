/**
 * What the dbfaults drill runs on: its settings, a private PostgreSQL that can be stopped and started
 * again on the same port and data dir, and the probes of the shop (`/readyz`, `/metrics`).
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { EmbeddedPostgres } from "@shop/database"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Http from "node:http"
import { BenchError } from "../../BenchError.js"
import * as ShopMetrics from "../../ShopMetrics.js"

export const dbName = "dbfaults"
export const faultEnv: Record<string, string> = {
  DATABASE_CONNECT_TIMEOUT: "2 seconds",
  FULFILLMENT_INTERVAL: "200 millis",
  FULFILLMENT_STATEMENT_TIMEOUT: "1 second"
}

export const now = () => Date.now()

/** GET on the shop; status (or 0 for no answer within `timeoutMs`) and duration. */
export const get = (port: number, path: string, timeoutMs = 5000) =>
  new Promise<{ status: number; body: string; ms: number }>((resolve) => {
    const sentAt = now()
    const req = Http.get({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: now() - sentAt }))
      res.on("error", () => resolve({ status: 0, body, ms: now() - sentAt }))
    })
    req.on("timeout", () => req.destroy())
    req.on("error", () => resolve({ status: 0, body: "", ms: now() - sentAt }))
  })

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export const connect = (url: string, maxConnections: number) =>
  Layer.build(PgClient.layer({
    url: Redacted.make(url),
    maxConnections,
    connectTimeout: Duration.seconds(5)
  })).pipe(Effect.map(Context.get(PgClient.PgClient)))

export const withDb = (url: string, name: string) => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

export interface Probe {
  readonly status: number
  readonly ms: number
  readonly at: number
}

/** Fulfillment ticks that failed or timed out, from the worker's tick histogram. */
export const tickFailures = (port: number) =>
  Effect.promise(() => get(port, "/metrics")).pipe(Effect.map((r) =>
    (["failed", "timeout"] as const).reduce(
      (sum, outcome) =>
        sum +
        ShopMetrics.metric(r.body, "lifecycle_worker_tick_duration_seconds_count", { worker: "fulfillment", outcome }),
      0
    )
  ))

/** Polls `/readyz` every 100 ms until `want` or the bound; the time to it and every probe. */
export const pollReadyz = (port: number, want: number, boundMs: number, probes: Array<Probe>) =>
  Effect.gen(function*() {
    const start = now()
    while (now() - start < boundMs) {
      const at = now()
      const r = yield* Effect.promise(() => get(port, "/readyz", 5000))
      probes.push({ status: r.status, ms: r.ms, at })
      if (r.status === want) return now() - start
      yield* Effect.sleep("100 millis")
    }
    return undefined
  })

/**
 * The embedded PostgreSQL of `@shop/database` on `dataDir` and `port`: `start` (again after a
 * `release`), `release` stops the current server; the scope stops one still running.
 */
export const privatePostgres = (dataDir: string, port: number) =>
  Effect.gen(function*() {
    let scope: Scope.CloseableScope | undefined
    let server: EmbeddedPostgres.Server | undefined
    const start = Effect.gen(function*() {
      const opened = yield* Scope.make()
      const started = yield* EmbeddedPostgres.make({ dataDir, port, stopTimeout: "10 seconds" }).pipe(
        Scope.extend(opened),
        Effect.mapError((e) => new BenchError({ message: `embedded PostgreSQL: ${e.message}`, cause: e })),
        Effect.onError(() => Scope.close(opened, Exit.void))
      )
      scope = opened
      server = started
      return started
    })
    const release = Effect.suspend(() => {
      const open = scope
      scope = undefined
      return open ? Scope.close(open, Exit.void) : Effect.void
    })
    yield* Effect.addFinalizer(() => release)
    return { start, release, current: () => server }
  })
