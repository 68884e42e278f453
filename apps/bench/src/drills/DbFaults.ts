/**
 * `node apps/bench/dist/drills/main.js dbfaults [--clients N]`: database faults under load.
 *
 * A private PostgreSQL (the embedded one of `@shop/database`, temp data dir, a fixed free port so it
 * can come back on the same address), one shop on it, a standalone carrier simulator, the usual mix
 * of requests (timed). Then:
 *
 * - A: PostgreSQL stopped at once (SIGQUIT, an immediate shutdown) — `/readyz` must turn 503, stay
 *   answering; ~3 s later the server starts again on the same port and data dir — `/readyz` must be
 *   200 again by itself (30 s bound);
 * - B: `pg_terminate_backend` of one of the shop's connections, a few times — the shop keeps answering;
 * - C: `LOCK TABLE order_events IN EXCLUSIVE MODE` held ~3 s while paid orders exist — fulfillment
 *   ticks hit `FULFILLMENT_STATEMENT_TIMEOUT` (failed fulfillment ticks on `/metrics` grow), and after
 *   the release paid orders advance again.
 *
 * Then quiet, the drills' invariant checker, a report; exit 1 on a broken invariant, any 5xx but a
 * 503 with a JSON body, any request slower than `hangBoundMs`, or the shop exiting.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { EmbeddedPostgres } from "@shop/database"
import { tempDir } from "@shop/process-harness/TempDir"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import { BenchError } from "../BenchError.js"
import { percentile as pct } from "../Figures.js"
import * as ShopMetrics from "../ShopMetrics.js"
import { freePort } from "../ShopProcess.js"
import * as TimedLoad from "./DbFaultsLoad.js"
import { carrierSimSettings, progress, shopSettings } from "./Drill.js"
import * as Invariants from "./Invariants.js"
import { type Replica, startCarrierSim, startShop } from "./Processes.js"

const dbName = "dbfaults"
const faultEnv: Record<string, string> = {
  DATABASE_CONNECT_TIMEOUT: "2 seconds",
  FULFILLMENT_INTERVAL: "200 millis",
  FULFILLMENT_STATEMENT_TIMEOUT: "1 second"
}

const now = () => Date.now()

/** GET on the shop; status (or 0 for no answer within `timeoutMs`) and duration. */
const get = (port: number, path: string, timeoutMs = 5000) =>
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

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const connect = (url: string, maxConnections: number) =>
  Layer.build(PgClient.layer({
    url: Redacted.make(url),
    maxConnections,
    connectTimeout: Duration.seconds(5)
  })).pipe(Effect.map(Context.get(PgClient.PgClient)))

const withDb = (url: string, name: string) => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

interface Probe {
  readonly status: number
  readonly ms: number
  readonly at: number
}

export interface FaultA {
  readonly stoppedAfterMs: number
  readonly to503Ms: number | undefined
  readonly readyzDuring: Record<string, number>
  readonly downMs: number
  readonly pgStartMs: number
  readonly recoverMs: number | undefined
  readonly maxProbeMs: number
}
export interface FaultB {
  readonly kills: Array<
    { readonly pid: number | undefined; readonly state: string | undefined; readonly readyAfterMs: number | undefined }
  >
}
export interface FaultC {
  readonly paidAtLock: number
  readonly failuresBefore: number
  readonly failuresAfter: number
  readonly heldMs: number
  readonly advanceAfterMs: number | undefined
}

/** Fulfillment ticks that failed or timed out, from the worker's tick histogram. */
const tickFailures = (port: number) =>
  Effect.promise(() => get(port, "/metrics")).pipe(Effect.map((r) =>
    (["failed", "timeout"] as const).reduce(
      (sum, outcome) =>
        sum +
        ShopMetrics.metric(r.body, "lifecycle_worker_tick_duration_seconds_count", { worker: "fulfillment", outcome }),
      0
    )
  ))

/** Polls `/readyz` every 100 ms until `want` or the bound; the time to it and every probe. */
const pollReadyz = (port: number, want: number, boundMs: number, probes: Array<Probe>) =>
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

export const run = (clients: number, command: string) =>
  Effect.gen(function*() {
    const startedAt = new Date()
    let keepLogs = true
    const dir = yield* tempDir("shop-drill-dbfaults-", () => keepLogs)
    const logDir = Path.join(dir, "logs")
    const mailDir = Path.join(dir, "mail")
    Fs.mkdirSync(logDir)
    // as root PostgreSQL runs as the `postgres` OS user: its data dir is its own temp dir (like globalSetup)
    const pgDir = yield* tempDir("shop-drill-dbfaults-pg-")
    yield* progress(`dbfaults: ${clients} client loops; logs in ${logDir}, PostgreSQL data in ${pgDir}`)

    const port = yield* freePort

    // the current server's scope; closed (server stopped) at the end if it is still open
    let pgScope: Scope.CloseableScope | undefined
    let server: EmbeddedPostgres.Server | undefined
    const startPg = Effect.gen(function*() {
      const scope = yield* Scope.make()
      const started = yield* EmbeddedPostgres.make({ dataDir: pgDir, port, stopTimeout: "10 seconds" }).pipe(
        Scope.extend(scope),
        Effect.mapError((e) => new BenchError({ message: `embedded PostgreSQL: ${e.message}`, cause: e })),
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      pgScope = scope
      server = started
      return started
    })
    yield* Effect.addFinalizer(() => Effect.suspend(() => pgScope ? Scope.close(pgScope, Exit.void) : Effect.void))
    const t0 = now()
    const first = yield* startPg
    const adminUrl = Redacted.value(first.url)
    const pgVersion = yield* Effect.scoped(Effect.gen(function*() {
      const admin = yield* connect(adminUrl, 1)
      yield* admin`CREATE DATABASE ${admin(dbName)}`
      const [{ version }] = yield* admin<{ version: string }>`SELECT current_setting('server_version') AS version`
      return version
    })).pipe(Effect.mapError((cause) => new BenchError({ message: `database setup: ${cause.message}`, cause })))
    const dbUrl = withDb(adminUrl, dbName)
    yield* progress(`PostgreSQL ${pgVersion} (pid ${first.pid}) on 127.0.0.1:${port} in ${now() - t0} ms`)

    const sim = yield* startCarrierSim(carrierSimSettings, dir, logDir)
    const env = { ...shopSettings, ...faultEnv, DATABASE_URL: dbUrl, CARRIER_URL: sim.url, MAIL_DIR: mailDir }
    const shop: Replica = yield* startShop({ slot: 0, generation: 1, env, cwd: dir, logDir })
    yield* progress(`carrier simulator on ${sim.url}; ${shop.name} (pid ${shop.pid}) on ${shop.port}`)

    let phase = "warm-up"
    const load = yield* Effect.acquireRelease(
      Effect.sync(() =>
        TimedLoad.start({
          runId: Crypto.randomBytes(3).toString("hex"),
          clients,
          replica: () => shop,
          phase: () => phase
        })
      ),
      (load) => Effect.promise(() => load.stop())
    )
    yield* Effect.sleep("3 seconds")

    // ---- A: restart PostgreSQL under load ---------------------------------------------------------
    phase = "A: postgres down"
    const probesA: Array<Probe> = []
    const down = first
    const tStop = now()
    yield* progress(`A: SIGQUIT (immediate shutdown) to PostgreSQL pid ${down.pid}`)
    process.kill(down.pid, "SIGQUIT")
    while (isAlive(down.pid) && now() - tStop < 10_000) yield* Effect.sleep("20 millis")
    const stoppedAfterMs = now() - tStop
    yield* Scope.close(pgScope!, Exit.void)
    pgScope = undefined
    const to503 = yield* pollReadyz(shop.port, 503, 15_000, probesA)
    yield* progress(`A: postgres gone after ${stoppedAfterMs} ms; /readyz 503 after ${to503 ?? "NEVER"} ms`)
    const keepDownUntil = now() + 3000
    while (now() < keepDownUntil) {
      const at = now()
      const r = yield* Effect.promise(() => get(shop.port, "/readyz", 5000))
      probesA.push({ status: r.status, ms: r.ms, at })
      yield* Effect.sleep("200 millis")
    }
    const downMs = now() - tStop
    phase = "A: recovering"
    const tStart = now()
    yield* startPg
    const pgStartMs = now() - tStart
    const recoverMs = yield* pollReadyz(shop.port, 200, 30_000, probesA)
    yield* progress(
      `A: PostgreSQL back (pid ${server!.pid}) after ${pgStartMs} ms; /readyz 200 ${
        recoverMs === undefined ? "NOT within 30 s" : `${recoverMs} ms later`
      }`
    )
    const faultA: FaultA = {
      stoppedAfterMs,
      to503Ms: to503,
      readyzDuring: probesA.reduce<Record<string, number>>((acc, p) => {
        acc[String(p.status)] = (acc[String(p.status)] ?? 0) + 1
        return acc
      }, {}),
      downMs,
      pgStartMs,
      recoverMs,
      maxProbeMs: Math.max(...probesA.map((p) => p.ms))
    }
    phase = "between"
    yield* Effect.sleep("2 seconds")

    // ---- B: kill one backend, a few times --------------------------------------------------------
    const admin = yield* connect(dbUrl, 1).pipe(
      Effect.mapError((cause) => new BenchError({ message: `admin connection: ${cause.message}`, cause }))
    )
    phase = "B: backend killed"
    const kills: FaultB["kills"] = []
    for (let i = 0; i < 3; i++) {
      // an active one (a query in flight) if there is one at that instant, else an idle pooled connection
      const rows = yield* admin<{ pid: number; state: string; terminated: boolean }>`
        SELECT pid, state, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
        WHERE datname = ${dbName} AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        ORDER BY (state = 'active') DESC LIMIT 1`.pipe(
        Effect.orDie
      )
      const ready = yield* pollReadyz(shop.port, 200, 10_000, [])
      kills.push({ pid: rows[0]?.pid, state: rows[0]?.state, readyAfterMs: ready })
      yield* progress(
        `B: terminated backend ${rows[0]?.pid ?? "(none found)"} (${rows[0]?.state}); /readyz 200 after ${ready} ms`
      )
      yield* Effect.sleep("1 second")
    }
    const faultB: FaultB = { kills }
    phase = "between"
    yield* Effect.sleep("1 second")

    // ---- C: a lock that makes the fulfillment tick hit its statement_timeout ----------------------
    const paidCount = admin<{ n: number }>`SELECT count(*)::int AS n FROM orders WHERE status = 'paid'`.pipe(
      Effect.map(([r]) => r.n),
      Effect.orDie
    )
    let paidAtLock = yield* paidCount
    for (let i = 0; i < 50 && paidAtLock === 0; i++) {
      yield* Effect.sleep("100 millis")
      paidAtLock = yield* paidCount
    }
    const failuresBefore = yield* tickFailures(shop.port)
    phase = "C: order_events locked"
    const tLock = now()
    yield* progress(`C: LOCK TABLE order_events IN EXCLUSIVE MODE for 3 s (${paidAtLock} paid orders)`)
    const stuck = yield* admin.withTransaction(Effect.gen(function*() {
      yield* admin`LOCK TABLE order_events IN EXCLUSIVE MODE`
      yield* Effect.sleep("3 seconds")
      return yield* admin<{ id: number }>`SELECT id FROM orders WHERE status = 'paid'`
    })).pipe(Effect.orDie)
    const heldMs = now() - tLock
    phase = "C: released"
    const failuresAfter = yield* tickFailures(shop.port)
    const ids = stuck.map((r) => r.id)
    let advanceAfterMs: number | undefined
    const tRelease = now()
    while (ids.length > 0 && now() - tRelease < 15_000) {
      const [{ n }] = yield* admin<{ n: number }>`
        SELECT count(*)::int AS n FROM orders WHERE id IN ${admin.in(ids)} AND status <> 'paid'`.pipe(Effect.orDie)
      if (n > 0) {
        advanceAfterMs = now() - tRelease
        break
      }
      yield* Effect.sleep("100 millis")
    }
    yield* progress(
      `C: held ${heldMs} ms; tick failures ${failuresBefore} → ${failuresAfter}; ${ids.length} paid at release, ` +
        `first advanced after ${advanceAfterMs ?? "NEVER"} ms`
    )
    const faultC: FaultC = { paidAtLock: ids.length, failuresBefore, failuresAfter, heldMs, advanceAfterMs }
    phase = "after"
    yield* Effect.sleep("2 seconds")

    // ---- quiet, checker ----------------------------------------------------------------------------
    yield* Effect.promise(() => load.stop())
    const aliveBeforeStop = shop.exited() === undefined
    const sql = yield* connect(dbUrl, 3).pipe(
      Effect.mapError((cause) => new BenchError({ message: `checker connection: ${cause.message}`, cause }))
    )
    const quietStart = now()
    const readState = Invariants.quietState(sql).pipe(
      Effect.mapError((cause) => new BenchError({ message: `quiet wait: ${cause.message}`, cause }))
    )
    let state = yield* readState
    while ((state.busy > 0 || state.leased > 0 || state.unsent > 0) && now() - quietStart < 60_000) {
      yield* Effect.sleep("250 millis")
      state = yield* readState
    }
    const quiet: Invariants.Quiet = {
      reached: state.busy === 0 && state.leased === 0 && state.unsent === 0,
      afterMs: now() - quietStart,
      state
    }
    yield* progress(`quiet: ${quiet.reached} after ${quiet.afterMs} ms`)
    yield* shop.kill("SIGTERM")
    const exited = yield* Effect.promise(() => shop.exit).pipe(Effect.timeout("15 seconds"), Effect.option)
    if (exited._tag === "None") {
      yield* shop.kill("SIGKILL")
      yield* Effect.promise(() => shop.exit)
    }
    const ex = shop.exited()!
    const shutdown: Invariants.Shutdown = {
      round: "final",
      replica: shop.name,
      pid: shop.pid,
      signal: "SIGTERM",
      code: ex.code,
      exitSignal: ex.signal,
      tookMs: exited._tag === "Some" ? shop.exitedAt()! - shop.signalled()!.at : undefined,
      shopSays: shop.lines.find((l) => /^shutdown complete in/.test(l.message))?.message
    }
    const simStats = yield* Effect.tryPromise({
      try: async () => (await (await fetch(`${sim.url}/v1/stats`)).json()) as Invariants.SimStats,
      catch: (cause) => new BenchError({ message: `carrier-sim /v1/stats failed: ${String(cause)}`, cause })
    })
    const { facts, invariants } = yield* Invariants.check({
      sql,
      records: load.records,
      sim: simStats,
      mailDir,
      replicas: [shop],
      shutdowns: [shutdown],
      quiet
    }).pipe(Effect.mapError((cause) => new BenchError({ message: `invariant checker: ${cause.message}`, cause })))

    // ---- the drill's own invariants ----------------------------------------------------------------
    const exchanges = load.exchanges
    const slow = exchanges.filter((e) => e.ms > TimedLoad.hangBoundMs)
    const bad = exchanges.filter((e) => /^5\d\d$/.test(e.outcome) && e.outcome !== "503")
    const shopErrors = shop.lines.filter((l) => l.logLevel === "ERROR" || l.logLevel === "FATAL")
    const own: Array<Invariants.Invariant> = [
      {
        name: "the shop process stayed up through every fault",
        ok: aliveBeforeStop,
        summary: aliveBeforeStop ? "alive until the final SIGTERM" : `exited ${JSON.stringify(shop.exited())}`,
        details: []
      },
      {
        name: "/readyz turned 503 while PostgreSQL was down",
        ok: faultA.to503Ms !== undefined,
        summary: faultA.to503Ms === undefined ? "never 503 within 15 s" : `503 after ${faultA.to503Ms} ms`,
        details: []
      },
      {
        name: "/readyz recovered by itself within 30 s of the restart",
        ok: faultA.recoverMs !== undefined,
        summary: faultA.recoverMs === undefined ? "NOT recovered" : `200 ${faultA.recoverMs} ms after PG was ready`,
        details: []
      },
      {
        name: "readiness 200 again after each killed backend",
        ok: faultB.kills.every((k) => k.readyAfterMs !== undefined),
        summary: faultB.kills.map((k) => `pid ${k.pid}: ${k.readyAfterMs ?? "NOT"} ms`).join(", "),
        details: []
      },
      {
        name: "the lock made fulfillment ticks time out, and the worker resumed after it",
        ok: faultC.failuresAfter > faultC.failuresBefore &&
          (faultC.paidAtLock === 0 || faultC.advanceAfterMs !== undefined),
        summary:
          `tick failures ${faultC.failuresBefore} → ${faultC.failuresAfter}; ${faultC.paidAtLock} paid at release, ` +
          `first advanced ${faultC.advanceAfterMs ?? "NEVER"} ms after`,
        details: []
      },
      {
        name: `no request took longer than ${TimedLoad.hangBoundMs} ms (DATABASE_CONNECT_TIMEOUT + slack)`,
        ok: slow.length === 0,
        summary: slow.length === 0 ? "none" : `${slow.length} slow`,
        details: slow.slice(0, 10).map((e) => `${e.phase} ${e.op} → ${e.outcome} in ${e.ms} ms ${e.detail}`)
      },
      {
        name: "no 5xx other than a 503 with a JSON body",
        ok: bad.length === 0,
        summary: bad.length === 0 ? "none" : `${bad.length}`,
        details: bad.slice(0, 10).map((e) => `${e.phase} ${e.op} → ${e.outcome} in ${e.ms} ms ${e.detail}`)
      }
    ]
    // what became of each request answered 500: had it committed?
    const fates = yield* Effect.forEach(bad, (e) =>
      Effect.gen(function*() {
        const head = `${e.phase}: ${e.op} \`POST ${e.path}\` → ${e.outcome} after ${e.ms} ms`
        if (e.op === "signup" && e.email !== undefined) {
          const [{ n }] = yield* sql<
            { n: number }
          >`SELECT count(*)::int AS n FROM users WHERE lower(email) = lower(${e.email})`
          return `${head}: the user ${n > 0 ? "EXISTS (the sign-up had committed)" : "does not exist"}`
        }
        const id = /\/v1\/orders\/(\d+)\//.exec(e.path)?.[1]
        if (id !== undefined) {
          const events = yield* sql<{ to_status: string }>`
            SELECT to_status FROM order_events WHERE order_id = ${Number(id)} ORDER BY id`
          return `${head}: order ${id} events now ${events.map((r) => r.to_status).join(" → ") || "none"}`
        }
        return head
      }).pipe(Effect.orElseSucceed(() => `${e.phase}: ${e.op} ${e.path} → ${e.outcome} (lookup failed)`)))
    const all = [...own, ...invariants]
    const ok = all.every((i) => i.ok)
    keepLogs = !ok

    // ---- report ------------------------------------------------------------------------------------
    const out: Array<string> = []
    const failed = all.filter((i) => !i.ok)
    out.push(
      `# Drill \`dbfaults\`: ${failed.length === 0 ? "all invariants held ✓" : `${failed.length} invariant(s) broke ✗`}`
    )
    out.push("")
    out.push(`- command: \`${command}\``)
    out.push(`- started ${startedAt.toISOString()}, took ${Math.round((now() - startedAt.getTime()) / 1000)} s`)
    const cpus = Os.cpus()
    out.push(`- machine: ${cpus.length} cores, Node ${process.version}, load average ${Os.loadavg()[0].toFixed(2)}`)
    out.push(`- database: private embedded PostgreSQL ${pgVersion} on 127.0.0.1:${port}, database \`${dbName}\``)
    out.push(
      `- shop settings: ${Object.entries({ ...shopSettings, ...faultEnv }).map(([k, v]) => `${k}=${v}`).join(", ")}`
    )
    out.push(`- ${clients} client loops; shop log in ${ok ? "(removed)" : logDir}`)
    out.push("")
    out.push("## Faults")
    out.push("")
    out.push("| fault | measured |")
    out.push("|---|---|")
    out.push(
      `| A: PostgreSQL immediate shutdown (SIGQUIT) under load | postmaster gone ${faultA.stoppedAfterMs} ms after the signal; ` +
        `/readyz 503 after ${faultA.to503Ms ?? "NEVER"} ms; down ${faultA.downMs} ms; restart on the same port took ` +
        `${faultA.pgStartMs} ms; /readyz 200 ${faultA.recoverMs ?? "NEVER"} ms after that; /readyz probes ${
          JSON.stringify(faultA.readyzDuring)
        }, slowest probe ${faultA.maxProbeMs} ms |`
    )
    out.push(
      `| B: pg_terminate_backend × ${faultB.kills.length} | ${
        faultB.kills.map((k) =>
          `pid ${k.pid ?? "none"} (${k.state}) → /readyz 200 after ${k.readyAfterMs ?? "NEVER"} ms`
        ).join("; ")
      } |`
    )
    out.push(
      `| C: LOCK order_events EXCLUSIVE | held ${faultC.heldMs} ms; failed fulfillment ticks ${faultC.failuresBefore} → ${faultC.failuresAfter}; ` +
        `${faultC.paidAtLock} orders paid at release, first one advanced ${faultC.advanceAfterMs ?? "NEVER"} ms after |`
    )
    out.push("")
    out.push("## Requests by phase")
    out.push("")
    const phases = [...new Set(exchanges.map((e) => e.phase))]
    const outcomes = [...new Set(exchanges.map((e) => e.outcome))].sort()
    out.push(`| phase | n | ${outcomes.join(" | ")} | p50 | p99 | max |`)
    out.push(`|---|---:|${outcomes.map(() => "---:").join("|")}|---:|---:|---:|`)
    for (const p of [...phases, "all"]) {
      const es = p === "all" ? exchanges : exchanges.filter((e) => e.phase === p)
      const sorted = es.map((e) => e.ms).sort((a, b) => a - b)
      out.push(
        `| ${p} | ${es.length} | ${outcomes.map((o) => es.filter((e) => e.outcome === o).length).join(" | ")} | ${
          pct(sorted, 50)
        } ms | ${pct(sorted, 99)} ms | ${sorted[sorted.length - 1] ?? "–"} ms |`
      )
    }
    if (fates.length > 0) {
      out.push(
        "",
        "Requests answered 500, and what the database says now:",
        "",
        ...fates.map((f) => `- ${f}`)
      )
    }
    const b503 = exchanges.find((e) => e.outcome === "503")
    if (b503) out.push("", `A 503 body: \`${b503.detail}\``)
    out.push("")
    out.push("## Invariants")
    out.push("")
    out.push("| | invariant | result |")
    out.push("|---|---|---|")
    for (const i of all) out.push(`| ${i.ok ? "✓" : "✗"} | ${i.name} | ${i.summary.replace(/\|/g, "\\|")} |`)
    for (const i of failed) {
      if (i.details.length === 0) continue
      out.push("", `### ✗ ${i.name}`, "", ...i.details.map((d) => `- ${d}`))
    }
    out.push("")
    out.push(
      `Facts: ${facts.orders} orders (${
        JSON.stringify(facts.ordersByStatus)
      }), ${facts.acknowledgedOrders} acknowledged; ` +
        `${facts.users} users; outbox ${JSON.stringify(facts.outboxByKind)}; ${facts.simShipments} shipments; ` +
        `shop ERROR lines: ${shopErrors.length}${
          shopErrors.length > 0
            ? ` (first: ${
              shopErrors.slice(0, 3).map((l) => `"${l.message}${l.cause ? ` ${l.cause.split("\n")[0]}` : ""}"`).join(
                "; "
              )
            })`
            : ""
        }; final SIGTERM → exit ${shutdown.code} after ${shutdown.tookMs} ms`
    )
    return { ok, report: out.join("\n") }
  })
