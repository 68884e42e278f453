/**
 * One drill: a fresh database, one standalone carrier simulator, N shop replicas under a steady mix
 * of requests; each round, a signal to a random replica at a random moment, its exit recorded, and
 * the replica restarted at the start of the next round. After the rounds: one replica is left
 * running until the shop is quiet, it is stopped with SIGTERM, and the invariant checker runs.
 */
import { tempDir } from "@shop/process-harness/TempDir"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { BenchError } from "../BenchError.js"
import * as DrillDatabase from "./DrillDatabase.js"
import type { DrillArgs } from "./DrillOptions.js"
import * as Invariants from "./Invariants.js"
import * as Load from "./Load.js"
import { type Replica, startCarrierSim, startShop } from "./Processes.js"
import * as Report from "./Report.js"

export const shutdownTimeoutMs = 10_000

/** What every shop replica runs with (besides DATABASE_URL, CARRIER_URL, MAIL_DIR). */
export const shopSettings: Record<string, string> = {
  FULFILLMENT_INTERVAL: "100 millis",
  CARRIER_LEASE: "3 seconds",
  OUTBOX_SWEEP_INTERVAL: "500 millis",
  // a row leased by a SIGKILLed delivery attempt is retried after this (default 30 s)
  OUTBOX_LEASE: "5 seconds",
  SHUTDOWN_TIMEOUT: "10 seconds",
  LOG_LEVEL: "Info"
}

export const carrierSimSettings: Record<string, string> = {
  CARRIER_SIM_LATENCY: "100 millis",
  CARRIER_SIM_JITTER: "20 millis",
  CARRIER_SIM_IN_TRANSIT_AFTER: "100 millis",
  CARRIER_SIM_DELIVERED_AFTER: "200 millis"
}

const quietBoundMs = 60_000

export const progress = (text: string) => Effect.sync(() => process.stderr.write(`drill: ${text}\n`))
const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1))

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
    const slots: Array<Replica | undefined> = Array.from({ length: args.replicas }, () => undefined)
    const everyReplica: Array<Replica> = []
    const shutdowns: Array<Invariants.Shutdown> = []
    const startsMs: Array<number> = []
    let generation = 0

    const start = (slot: number) =>
      Effect.gen(function*() {
        const replica = yield* startShop({ slot, generation: ++generation, env, cwd: dir, logDir })
        everyReplica.push(replica)
        startsMs.push(replica.readyAt - replica.spawnedAt)
        slots[slot] = replica
        return replica
      })
    const ensure = Effect.suspend(() =>
      Effect.forEach(
        slots.flatMap((replica, slot) => (replica === undefined || replica.exited() ? [slot] : [])),
        start,
        { concurrency: "unbounded", discard: true }
      )
    )
    /** Served replicas: running or draining after SIGTERM; a SIGKILLed one is gone at once. */
    const live = () =>
      slots.filter((r): r is Replica => r !== undefined && !r.exited() && r.signalled()?.signal !== "SIGKILL")

    /** Signals one replica and waits for its exit (SIGKILL after the bound); records it. */
    const stop = (replica: Replica, signal: NodeJS.Signals, round: number | "final") =>
      Effect.gen(function*() {
        yield* replica.kill(signal)
        const sentAt = replica.signalled()!.at
        const bound = signal === "SIGTERM" ? shutdownTimeoutMs + 5_000 : 5_000
        const exit = yield* Effect.promise(() => replica.exit).pipe(Effect.timeout(bound), Effect.option)
        if (Option.isNone(exit)) {
          yield* replica.kill("SIGKILL")
          yield* Effect.promise(() => replica.exit)
        }
        const exited = replica.exited()!
        const shopSays = replica.lines.find((line) =>
          /^shutdown complete in|deadline of .* exceeded|exits? at once/.test(line.message)
        )?.message
        const shutdown: Invariants.Shutdown = {
          round,
          replica: replica.name,
          pid: replica.pid,
          signal,
          code: exited.code,
          exitSignal: exited.signal,
          tookMs: Option.isSome(exit) ? replica.exitedAt()! - sentAt : undefined,
          shopSays
        }
        shutdowns.push(shutdown)
        if (slots[replica.slot] === replica) slots[replica.slot] = undefined
        return shutdown
      })

    yield* ensure
    yield* progress(`${args.replicas} replica(s) ready: ${live().map((r) => `${r.name}:${r.port}`).join(", ")}`)

    const runId = Crypto.randomBytes(3).toString("hex")
    const load = yield* Effect.acquireRelease(
      Effect.sync(() =>
        Load.start({
          runId,
          clients: args.clients,
          pick: () => {
            const candidates = live()
            return candidates[Math.floor(Math.random() * candidates.length)]
          }
        })
      ),
      (load) => Effect.promise(() => load.stop())
    )

    for (let round = 1; round <= args.rounds; round++) {
      yield* ensure
      yield* Effect.sleep(randomInt(500, 2000))
      const candidates = live()
      const victim = candidates[Math.floor(Math.random() * candidates.length)]
      const signal: NodeJS.Signals = args.drill === "sigterm"
        ? "SIGTERM"
        : args.drill === "sigkill"
        ? "SIGKILL"
        : Math.random() < 0.5
        ? "SIGTERM"
        : "SIGKILL"
      const s = yield* stop(victim, signal, round)
      yield* progress(
        `round ${round}/${args.rounds}: ${signal} ${s.replica} (pid ${s.pid}) → ${
          s.code !== null ? `exit ${s.code}` : s.exitSignal
        } ${
          s.tookMs === undefined ? "NOT IN TIME" : `after ${s.tookMs} ms`
        }; ${load.records.failureCount} failure(s) so far`
      )
    }

    yield* Effect.promise(() => load.stop())
    yield* progress("rounds done; stopping the load, leaving one replica until quiet")
    // SIGTERM all but one (in parallel, recorded as "final"), then make sure slot 0 runs
    yield* Effect.forEach(live().filter((r) => r.slot !== 0), (r) => stop(r, "SIGTERM", "final"), {
      concurrency: "unbounded",
      discard: true
    })
    if (slots[0] === undefined || slots[0].exited()) yield* start(0)
    const last = slots[0]!

    const quietStart = Date.now()
    const readState = Invariants.quietState(db.sql).pipe(
      Effect.mapError((cause) => new BenchError({ message: `quiet wait: ${cause.message}`, cause }))
    )
    let state = yield* readState
    while ((state.busy > 0 || state.leased > 0 || state.unsent > 0) && Date.now() - quietStart < quietBoundMs) {
      yield* Effect.sleep("250 millis")
      state = yield* readState
    }
    const quiet: Invariants.Quiet = {
      reached: state.busy === 0 && state.leased === 0 && state.unsent === 0,
      afterMs: Date.now() - quietStart,
      state
    }
    yield* progress(
      quiet.reached
        ? `quiet after ${quiet.afterMs} ms`
        : `NOT quiet after ${quiet.afterMs} ms: ${JSON.stringify(state)}`
    )
    const final = yield* stop(last, "SIGTERM", "final")
    yield* progress(`last replica ${final.replica}: exit ${final.code} after ${final.tookMs} ms`)

    const simStats = yield* Effect.tryPromise({
      try: async () => {
        const response = await fetch(`${sim.url}/v1/stats`, { signal: AbortSignal.timeout(5000) })
        if (response.status !== 200) throw new Error(`status ${response.status}`)
        return (await response.json()) as Invariants.SimStats
      },
      catch: (cause) => new BenchError({ message: `carrier-sim /v1/stats failed: ${String(cause)}`, cause })
    })
    const { facts, invariants } = yield* Invariants.check({
      sql: db.sql,
      records: load.records,
      sim: simStats,
      mailDir,
      replicas: everyReplica,
      shutdowns,
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
      shutdowns,
      startsMs,
      records: load.records,
      invariants,
      facts,
      shutdownTimeoutMs,
      logDir: ok ? undefined : logDir
    })
    return { ok, report }
  })
