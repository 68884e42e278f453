/**
 * One drill: a fresh database, one standalone carrier simulator, N shop replicas under a steady mix
 * of requests; each round, a signal to a random replica at a random moment, its exit recorded, and
 * the replica restarted at the start of the next round. After the rounds: one replica is left
 * running until the shop is quiet, it is stopped with SIGTERM, and the invariant checker runs.
 */
import { tempDir } from "@shop/process-harness/TempDir"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { BenchError } from "../BenchError.js"
import * as DrillDatabase from "./DrillDatabase.js"
import type { DrillArgs } from "./DrillOptions.js"
import * as Finish from "./Finish.js"
import * as Invariants from "./Invariants.js"
import * as Load from "./Load.js"
import * as Pool from "./Pool.js"
import { startCarrierSim } from "./Processes.js"
import * as Report from "./Report.js"
import { carrierSimSettings, progress, shopSettings } from "./Settings.js"

const quietBoundMs = 60_000

const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1))

const signalOf = (drill: DrillArgs["drill"]): NodeJS.Signals =>
  drill === "sigterm" ? "SIGTERM" : drill === "sigkill" ? "SIGKILL" : Math.random() < 0.5 ? "SIGTERM" : "SIGKILL"

/** Each round: the slots filled, a pause of 0.5–2 s, a signal to a random live replica, its exit. */
const rounds = (args: DrillArgs, pool: Pool.Pool, load: ReturnType<typeof Load.start>) =>
  Effect.gen(function*() {
    for (let round = 1; round <= args.rounds; round++) {
      yield* pool.ensure
      yield* Effect.sleep(randomInt(500, 2000))
      const candidates = pool.live()
      const victim = candidates[Math.floor(Math.random() * candidates.length)]
      const signal = signalOf(args.drill)
      const s = yield* pool.stop(victim, signal, round)
      yield* progress(
        `round ${round}/${args.rounds}: ${signal} ${s.replica} (pid ${s.pid}) → ${
          s.code !== null ? `exit ${s.code}` : s.exitSignal
        } ${
          s.tookMs === undefined ? "NOT IN TIME" : `after ${s.tookMs} ms`
        }; ${load.records.failureCount} failure(s) so far`
      )
    }
  })

/** SIGTERM all but slot 0 (in parallel, recorded as "final"), slot 0 left running until quiet, then SIGTERM. */
const windDown = (pool: Pool.Pool, db: DrillDatabase.DrillDatabase) =>
  Effect.gen(function*() {
    yield* Effect.forEach(pool.live().filter((r) => r.slot !== 0), (r) => pool.stop(r, "SIGTERM", "final"), {
      concurrency: "unbounded",
      discard: true
    })
    if (pool.slots[0] === undefined || pool.slots[0].exited()) yield* pool.start(0)
    const last = pool.slots[0]!
    const quiet = yield* Finish.waitQuiet(db.sql, quietBoundMs)
    yield* progress(
      quiet.reached
        ? `quiet after ${quiet.afterMs} ms`
        : `NOT quiet after ${quiet.afterMs} ms: ${JSON.stringify(quiet.state)}`
    )
    const final = yield* pool.stop(last, "SIGTERM", "final")
    yield* progress(`last replica ${final.replica}: exit ${final.code} after ${final.tookMs} ms`)
    return quiet
  })

/** The load's clients, each request to a random live replica; stopped with the scope at the latest. */
const startLoad = (args: DrillArgs, pool: Pool.Pool) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      Load.start({
        runId: Crypto.randomBytes(3).toString("hex"),
        clients: args.clients,
        pick: () => {
          const candidates = pool.live()
          return candidates[Math.floor(Math.random() * candidates.length)]
        }
      })
    ),
    (load) => Effect.promise(() => load.stop())
  )

export const run = (
  args: DrillArgs,
  adminUrl: string,
  command: string
): Effect.Effect<{ readonly ok: boolean; readonly report: string }, BenchError, Scope.Scope> =>
  Effect.gen(function*() {
    const startedAt = new Date()
    let keepLogs = true // until the report says everything held
    const dir = yield* tempDir("shop-drill-", () => keepLogs)
    const logDir = Path.join(dir, "logs")
    const mailDir = Path.join(dir, "mail")
    Fs.mkdirSync(logDir)
    yield* progress(`${args.drill}: ${args.rounds} rounds, ${args.replicas} replica(s); logs in ${logDir}`)

    const db = yield* DrillDatabase.create(adminUrl)
    yield* progress(`database ${db.name} on ${db.server} (PostgreSQL ${db.version})`)
    const sim = yield* startCarrierSim(carrierSimSettings, dir, logDir)
    yield* progress(`carrier simulator (pid ${sim.pid}) on ${sim.url}`)
    const env = { ...shopSettings, ...args.shopEnv, DATABASE_URL: db.url, CARRIER_URL: sim.url, MAIL_DIR: mailDir }
    const pool = Pool.make({ replicas: args.replicas, env, cwd: dir, logDir })
    yield* pool.ensure
    yield* progress(`${args.replicas} replica(s) ready: ${pool.live().map((r) => `${r.name}:${r.port}`).join(", ")}`)

    const load = yield* startLoad(args, pool)
    yield* rounds(args, pool, load)
    yield* Effect.promise(() => load.stop())
    yield* progress("rounds done; stopping the load, leaving one replica until quiet")
    const quiet = yield* windDown(pool, db)

    const { facts, invariants } = yield* Invariants.check({
      sql: db.sql,
      records: load.records,
      sim: yield* Finish.simStats(sim.url),
      mailDir,
      replicas: pool.everyReplica,
      shutdowns: pool.shutdowns,
      quiet
    }).pipe(
      Effect.mapError((cause) => new BenchError({ message: `invariant checker failed: ${cause.message}`, cause }))
    )
    const ok = invariants.every((invariant) => invariant.ok)
    keepLogs = !ok
    const cpus = Os.cpus()
    const report = Report.render({
      args,
      command,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      machine: `${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), Node ${process.version}, load average ${
        Os.loadavg()[0].toFixed(2)
      }`,
      database: `PostgreSQL ${db.version} on ${db.server}, fresh database ${db.name} (dropped at the end)`,
      settings: { ...shopSettings, ...args.shopEnv, ...carrierSimSettings },
      shutdowns: pool.shutdowns,
      startsMs: pool.startsMs,
      records: load.records,
      invariants,
      facts,
      shutdownTimeoutMs: Finish.shutdownTimeoutMs,
      logDir: ok ? undefined : logDir
    })
    return { ok, report }
  })
