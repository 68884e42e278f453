/**
 * `node apps/bench/dist/drills/main.js dbfaults [--clients N]`: database faults under load.
 *
 * A private PostgreSQL (the embedded one of `@shop/database`, temp data dir, a fixed free port so it
 * can come back on the same address), one shop on it, a standalone carrier simulator, the usual mix
 * of requests (timed). Then the faults of `dbfaults/Faults.ts`:
 *
 * - A: PostgreSQL stopped at once (SIGQUIT, an immediate shutdown) — `/readyz` must turn 503, stay
 *   answering; ~3 s later the server starts again on the same port and data dir — `/readyz` must be
 *   200 again by itself (30 s bound);
 * - B: `pg_terminate_backend` of one of the shop's connections, a few times — the shop keeps answering;
 * - C: `LOCK TABLE order_events IN EXCLUSIVE MODE` held ~3 s while paid orders exist — fulfillment
 *   ticks hit `FULFILLMENT_STATEMENT_TIMEOUT` (failed fulfillment ticks on `/metrics` grow), and after
 *   the release paid orders advance again.
 *
 * Then quiet, the drills' invariant checker and the drill's own (`dbfaults/Verdicts.ts`), a report
 * (`dbfaults/Report.ts`); exit 1 on a broken invariant, any 5xx but a 503 with a JSON body, any
 * request slower than `hangBoundMs`, or the shop exiting.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import { tempDir } from "@shop/process-harness/TempDir"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { BenchError } from "../BenchError.js"
import { freePort } from "../ShopProcess.js"
import * as Faults from "./dbfaults/Faults.js"
import * as DbFaultsReport from "./dbfaults/Report.js"
import { connect, dbName, faultEnv, now, privatePostgres, withDb } from "./dbfaults/Setup.js"
import * as Verdicts from "./dbfaults/Verdicts.js"
import * as TimedLoad from "./DbFaultsLoad.js"
import * as Finish from "./Finish.js"
import * as Invariants from "./Invariants.js"
import { type Replica, startCarrierSim, startShop } from "./Processes.js"
import { carrierSimSettings, progress, shopSettings } from "./Settings.js"

/** The private server, the database `dbfaults` on it, the simulator and the shop. */
const setUp = (dir: string, logDir: string, mailDir: string, pgDir: string) =>
  Effect.gen(function*() {
    const port = yield* freePort
    const pg = yield* privatePostgres(pgDir, port)
    const t0 = now()
    const first = yield* pg.start
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
    return { port, pg, pgVersion, dbUrl, sim, shop }
  })

const connection = (url: string, size: number, what: string) =>
  connect(url, size).pipe(
    Effect.mapError((cause) => new BenchError({ message: `${what} connection: ${cause.message}`, cause }))
  )

/** A, B and C in turn under the running load, with a pause between. */
const faults = (ctx: Faults.Context, pg: Faults.Postgres<BenchError>, dbUrl: string) =>
  Effect.gen(function*() {
    const faultA = yield* Faults.restartPostgres(ctx, pg)
    ctx.setPhase("between")
    yield* Effect.sleep("2 seconds")
    const admin = yield* connection(dbUrl, 1, "admin")
    const faultB = yield* Faults.killBackends(ctx, admin)
    ctx.setPhase("between")
    yield* Effect.sleep("1 second")
    const faultC = yield* Faults.lockEvents(ctx, admin)
    ctx.setPhase("after")
    yield* Effect.sleep("2 seconds")
    return { faultA, faultB, faultC }
  })

/** Quiet, the final SIGTERM, the checker: every invariant, the drill's own first. */
const verdicts = (
  sql: PgClient.PgClient,
  measured: Verdicts.Measured,
  load: ReturnType<typeof TimedLoad.start>,
  simUrl: string,
  mailDir: string
) =>
  Effect.gen(function*() {
    const quiet = yield* Finish.waitQuiet(sql, 60_000)
    yield* progress(`quiet: ${quiet.reached} after ${quiet.afterMs} ms`)
    const shutdown = yield* Finish.stop(measured.shop, "SIGTERM", "final")
    const sim = yield* Finish.simStats(simUrl)
    const { facts, invariants } = yield* Invariants.check({
      sql,
      records: load.records,
      sim,
      mailDir,
      replicas: [measured.shop],
      shutdowns: [shutdown],
      quiet
    }).pipe(Effect.mapError((cause) => new BenchError({ message: `invariant checker: ${cause.message}`, cause })))
    const fates = yield* Verdicts.fates(sql, Verdicts.badOnes(measured.exchanges))
    return { all: [...Verdicts.own(measured), ...invariants], facts, fates, shutdown }
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
    const { dbUrl, pg, pgVersion, port, shop, sim } = yield* setUp(dir, logDir, mailDir, pgDir)

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
    const measured = yield* faults({ port: shop.port, setPhase: (next) => (phase = next) }, pg, dbUrl)
    yield* Effect.promise(() => load.stop())
    const aliveBeforeStop = shop.exited() === undefined

    const sql = yield* connection(dbUrl, 3, "checker")
    const all = { ...measured, shop, aliveBeforeStop, exchanges: load.exchanges }
    const { facts, fates, shutdown, ...checked } = yield* verdicts(sql, all, load, sim.url, mailDir)
    const ok = checked.all.every((i) => i.ok)
    keepLogs = !ok
    const report = DbFaultsReport.render({
      ...measured,
      command,
      startedAt,
      clients,
      pgVersion,
      port,
      logDir,
      ok,
      exchanges: load.exchanges,
      fates,
      all: checked.all,
      facts,
      shopErrors: shop.lines.filter((l) => l.logLevel === "ERROR" || l.logLevel === "FATAL"),
      shutdown
    })
    return { ok, report }
  })
