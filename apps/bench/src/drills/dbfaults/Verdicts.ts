/**
 * The dbfaults drill's own invariants, on top of the drills' checker: the shop stayed up, readiness
 * followed the database, the lock made ticks time out and the worker resumed, no request hung, no
 * 5xx but a 503 with a JSON body; and, for each request answered 500, what the database says now.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as TimedLoad from "../DbFaultsLoad.js"
import type * as Invariants from "../Invariants.js"
import type { Replica } from "../Processes.js"
import type { FaultA, FaultB, FaultC } from "./Types.js"

export interface Measured {
  readonly shop: Replica
  readonly aliveBeforeStop: boolean
  readonly faultA: FaultA
  readonly faultB: FaultB
  readonly faultC: FaultC
  readonly exchanges: ReadonlyArray<TimedLoad.Exchange>
}

const slowOnes = (exchanges: ReadonlyArray<TimedLoad.Exchange>) => exchanges.filter((e) => e.ms > TimedLoad.hangBoundMs)

/** 5xx answers other than a 503 (which carries a JSON body). */
export const badOnes = (exchanges: ReadonlyArray<TimedLoad.Exchange>) =>
  exchanges.filter((e) => /^5\d\d$/.test(e.outcome) && e.outcome !== "503")

export const own = (
  { aliveBeforeStop, exchanges, faultA, faultB, faultC, shop }: Measured
): Array<Invariants.Invariant> => {
  const slow = slowOnes(exchanges)
  const bad = badOnes(exchanges)
  return [
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
}

/** What became of each request answered 500: had it committed? */
export const fates = (sql: PgClient.PgClient, bad: ReadonlyArray<TimedLoad.Exchange>) =>
  Effect.forEach(bad, (e) =>
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
