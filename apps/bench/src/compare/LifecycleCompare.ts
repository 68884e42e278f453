/**
 * Rows 7 and 8: spawn → first `GET /readyz` 200, then SIGTERM → exit of an idle process, three times
 * per stack, taking turns (shop, Fastify, bare), all on one migrated database. The shop runs as
 * production would: its defaults, `CARRIER_URL` pointing at a standalone carrier simulator (the
 * carrier is another service); and, for context, as a developer starts it, `CARRIER_URL` unset (the
 * in-process simulator starts too). Idle means no open client connection: the readiness probes close theirs (HttpGet), so the
 * shop's idle grace for kept-alive sockets never applies, and a second passes between ready and the
 * signal so the start-up's own first ticks are over.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { BenchError } from "../BenchError.js"
import * as CarrierSimProcess from "../CarrierSimProcess.js"
import * as PeerRun from "../peers/PeerRun.js"
import { int } from "../Report.js"
import * as ShopProcess from "../ShopProcess.js"
import * as Section from "./Section.js"
import * as Stacks from "./Stacks.js"
import * as Table from "./Table.js"
import * as Verdict from "./Verdict.js"

export interface LifecycleOptions extends Section.Setup {
  readonly starts: number
  readonly show: { readonly start: boolean; readonly stop: boolean }
}

/** The targets of the issue, in ms. */
export const startLimitMs = 600
export const stopLimitMs = 150

export const run = (options: LifecycleOptions): Effect.Effect<Section.Section, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const db = yield* PeerRun.freshDatabase(options.adminUrl, "lifecycle", 1)
    const { CARRIER_URL: _carrier, ...env } = options.env
    const carrier = yield* CarrierSimProcess.start({ name: "carrier-sim-lifecycle", cwd: options.cwd, settings: {} })
    // the shop as production runs it, then as a developer does (in-process simulator): a row each
    const variants = [
      ...Stacks.http.map((stack) => ({
        ...stack,
        env: stack.key === "shop" ? { ...env, CARRIER_URL: carrier.url } : env
      })),
      { key: "shop-dev", name: "shop, CARRIER_URL unset", script: undefined, env }
    ]
    const failures: Array<string> = []
    const starts = new Map<string, Array<number>>()
    const stops = new Map<string, Array<number>>()
    const record = (map: Map<string, Array<number>>, key: string, value: number) =>
      map.set(key, [...(map.get(key) ?? []), value])
    for (let i = 1; i <= options.starts; i++) {
      for (const stack of variants) {
        yield* Effect.scoped(Effect.gen(function*() {
          const server = yield* ShopProcess.start({
            name: `${stack.key}-start-${i}`,
            script: stack.script,
            cwd: options.cwd,
            env: { ...stack.env, DATABASE_URL: Redacted.value(db.url) },
            readyTimeout: options.readyTimeout,
            echo: false
          })
          yield* Effect.sleep(Duration.seconds(1))
          const exited = yield* server.terminate("30 seconds")
          if (exited.code !== 0) failures.push(`${server.name} exited with ${exited.code ?? exited.signal} on SIGTERM`)
          record(starts, stack.key, Duration.toMillis(server.startToReady))
          record(stops, stack.key, Duration.toMillis(exited.took))
          console.log(
            `${server.name}: start → /readyz 200 ${Duration.toMillis(server.startToReady)} ms, ` +
              `SIGTERM → exit ${Duration.toMillis(exited.took)} ms (exit code ${exited.code ?? exited.signal})`
          )
        }))
      }
    }
    const med = (map: Map<string, Array<number>>, key: string) => Verdict.median(map.get(key) ?? [])
    const millis = (n: number) => `${int(n)} ms`
    const context = (map: Map<string, Array<number>>) =>
      Stacks.http.slice(1).map((s) => `${s.name} ${millis(med(map, s.key) ?? NaN)}`).join(", ")
    const each = (map: Map<string, Array<number>>, key = "shop") => (map.get(key) ?? []).map((n) => int(n)).join(", ")
    const lines: Array<Table.Line> = []
    if (options.show.start) {
      lines.push(
        Table.bounded({
          figure: `shop start → /readyz 200, median of ${options.starts} (${each(starts)} ms); migrated database, ` +
            `CARRIER_URL set (a standalone carrier, as in production)`,
          ours: med(starts, "shop"),
          context: context(starts),
          format: millis,
          goal: Verdict.atMost(startLimitMs, "ms")
        }),
        {
          figure: `the same with CARRIER_URL unset (the development default: the in-process carrier simulator ` +
            `starts too), median of ${options.starts} (${each(starts, "shop-dev")} ms)`,
          ours: millis(med(starts, "shop-dev") ?? NaN),
          peer: "—",
          ratio: "—",
          target: "—",
          verdict: "—"
        }
      )
    }
    if (options.show.stop) {
      lines.push(Table.bounded({
        figure: `SIGTERM → exit, idle (no client connection open), median of ${options.starts} (${each(stops)} ms)`,
        ours: med(stops, "shop"),
        context: context(stops),
        format: millis,
        goal: Verdict.atMost(stopLimitMs, "ms")
      }))
    }
    return { lines, failures, notes: [] }
  }))
