/**
 * The three faults, each run under load and measured (the report says what the numbers mean):
 *
 * - A: PostgreSQL stopped at once (SIGQUIT), `/readyz` 503 while it is down, restarted ~3 s later on
 *   the same port and data dir, `/readyz` 200 again by itself;
 * - B: `pg_terminate_backend` of one of the shop's connections, three times;
 * - C: `LOCK TABLE order_events IN EXCLUSIVE MODE` held ~3 s while paid orders exist.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import type { EmbeddedPostgres } from "@shop/database"
import * as Effect from "effect/Effect"
import { progress } from "../Settings.js"
import { dbName, get, isAlive, now, pollReadyz, type Probe, tickFailures } from "./Setup.js"
import type { FaultA, FaultB, FaultC } from "./Types.js"

export interface Context {
  readonly port: number
  readonly setPhase: (phase: string) => void
}

export interface Postgres<E> {
  readonly start: Effect.Effect<EmbeddedPostgres.Server, E>
  readonly release: Effect.Effect<void>
  readonly current: () => EmbeddedPostgres.Server | undefined
}

const countByStatus = (probes: ReadonlyArray<Probe>) =>
  probes.reduce<Record<string, number>>((acc, p) => {
    acc[String(p.status)] = (acc[String(p.status)] ?? 0) + 1
    return acc
  }, {})

/** A: restart PostgreSQL under load. */
export const restartPostgres = <E>(ctx: Context, pg: Postgres<E>) =>
  Effect.gen(function*() {
    ctx.setPhase("A: postgres down")
    const probes: Array<Probe> = []
    const down = pg.current()!
    const tStop = now()
    yield* progress(`A: SIGQUIT (immediate shutdown) to PostgreSQL pid ${down.pid}`)
    process.kill(down.pid, "SIGQUIT")
    while (isAlive(down.pid) && now() - tStop < 10_000) yield* Effect.sleep("20 millis")
    const stoppedAfterMs = now() - tStop
    yield* pg.release
    const to503 = yield* pollReadyz(ctx.port, 503, 15_000, probes)
    yield* progress(`A: postgres gone after ${stoppedAfterMs} ms; /readyz 503 after ${to503 ?? "NEVER"} ms`)
    const keepDownUntil = now() + 3000
    while (now() < keepDownUntil) {
      const at = now()
      const r = yield* Effect.promise(() => get(ctx.port, "/readyz", 5000))
      probes.push({ status: r.status, ms: r.ms, at })
      yield* Effect.sleep("200 millis")
    }
    const downMs = now() - tStop
    ctx.setPhase("A: recovering")
    const tStart = now()
    yield* pg.start
    const pgStartMs = now() - tStart
    const recoverMs = yield* pollReadyz(ctx.port, 200, 30_000, probes)
    yield* progress(
      `A: PostgreSQL back (pid ${pg.current()!.pid}) after ${pgStartMs} ms; /readyz 200 ${
        recoverMs === undefined ? "NOT within 30 s" : `${recoverMs} ms later`
      }`
    )
    const fault: FaultA = {
      stoppedAfterMs,
      to503Ms: to503,
      readyzDuring: countByStatus(probes),
      downMs,
      pgStartMs,
      recoverMs,
      maxProbeMs: Math.max(...probes.map((p) => p.ms))
    }
    return fault
  })

/** B: kill one backend, a few times. */
export const killBackends = (ctx: Context, admin: PgClient.PgClient) =>
  Effect.gen(function*() {
    ctx.setPhase("B: backend killed")
    const kills: Array<FaultB["kills"][number]> = []
    for (let i = 0; i < 3; i++) {
      // an active one (a query in flight) if there is one at that instant, else an idle pooled connection
      const rows = yield* admin<{ pid: number; state: string; terminated: boolean }>`
        SELECT pid, state, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
        WHERE datname = ${dbName} AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        ORDER BY (state = 'active') DESC LIMIT 1`.pipe(
        Effect.orDie
      )
      const ready = yield* pollReadyz(ctx.port, 200, 10_000, [])
      kills.push({ pid: rows[0]?.pid, state: rows[0]?.state, readyAfterMs: ready })
      yield* progress(
        `B: terminated backend ${rows[0]?.pid ?? "(none found)"} (${rows[0]?.state}); /readyz 200 after ${ready} ms`
      )
      yield* Effect.sleep("1 second")
    }
    const fault: FaultB = { kills }
    return fault
  })

/** Polls every 100 ms (15 s at most) until one of `ids` left `paid`; the time to it. */
const firstAdvance = (admin: PgClient.PgClient, ids: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const tRelease = now()
    while (ids.length > 0 && now() - tRelease < 15_000) {
      const [{ n }] = yield* admin<{ n: number }>`
        SELECT count(*)::int AS n FROM orders WHERE id IN ${admin.in(ids)} AND status <> 'paid'`.pipe(Effect.orDie)
      if (n > 0) return now() - tRelease
      yield* Effect.sleep("100 millis")
    }
    return undefined
  })

/** C: a lock that makes the fulfillment tick hit its statement_timeout. */
export const lockEvents = (ctx: Context, admin: PgClient.PgClient) =>
  Effect.gen(function*() {
    const paidCount = admin<{ n: number }>`SELECT count(*)::int AS n FROM orders WHERE status = 'paid'`.pipe(
      Effect.map(([r]) => r.n),
      Effect.orDie
    )
    let paidAtLock = yield* paidCount
    for (let i = 0; i < 50 && paidAtLock === 0; i++) {
      yield* Effect.sleep("100 millis")
      paidAtLock = yield* paidCount
    }
    const failuresBefore = yield* tickFailures(ctx.port)
    ctx.setPhase("C: order_events locked")
    const tLock = now()
    yield* progress(`C: LOCK TABLE order_events IN EXCLUSIVE MODE for 3 s (${paidAtLock} paid orders)`)
    const stuck = yield* admin.withTransaction(Effect.gen(function*() {
      yield* admin`LOCK TABLE order_events IN EXCLUSIVE MODE`
      yield* Effect.sleep("3 seconds")
      return yield* admin<{ id: number }>`SELECT id FROM orders WHERE status = 'paid'`
    })).pipe(Effect.orDie)
    const heldMs = now() - tLock
    ctx.setPhase("C: released")
    const failuresAfter = yield* tickFailures(ctx.port)
    const ids = stuck.map((r) => r.id)
    const advanceAfterMs = yield* firstAdvance(admin, ids)
    yield* progress(
      `C: held ${heldMs} ms; tick failures ${failuresBefore} → ${failuresAfter}; ${ids.length} paid at release, ` +
        `first advanced after ${advanceAfterMs ?? "NEVER"} ms`
    )
    const fault: FaultC = { paidAtLock: ids.length, failuresBefore, failuresAfter, heldMs, advanceAfterMs }
    return fault
  })
