/**
 * Rows 7 and 8: spawn → first `GET /readyz` 200, then SIGTERM → exit of an idle process, three times
 * per stack, taking turns (shop, Fastify, bare), all on one migrated database. The shop runs as a
 * user would start it: its defaults, `CARRIER_URL` unset (the in-process carrier simulator starts
 * too). Idle means no open client connection: the readiness probes close theirs (HttpGet), so the
 * shop's idle grace for kept-alive sockets never applies, and a second passes between ready and the
 * signal so the start-up's own first ticks are over.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { BenchError } from "../BenchError.js"
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
    const failures: Array<string> = []
    const starts = new Map<string, Array<number>>()
    const stops = new Map<string, Array<number>>()
    const record = (map: Map<string, Array<number>>, key: string, value: number) =>
      map.set(key, [...(map.get(key) ?? []), value])
    for (let i = 1; i <= options.starts; i++) {
      for (const stack of Stacks.http) {
        yield* Effect.scoped(Effect.gen(function*() {
          const server = yield* ShopProcess.start({
            name: `${stack.key}-start-${i}`,
            script: stack.script,
            cwd: options.cwd,
            env: { ...env, DATABASE_URL: Redacted.value(db.url) },
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
    const each = (map: Map<string, Array<number>>) => (map.get("shop") ?? []).map((n) => int(n)).join(", ")
    const lines: Array<Table.Line> = []
    if (options.show.start) {
      lines.push(Table.bounded({
        figure: `shop start → /readyz 200, median of ${options.starts} (${each(starts)} ms); migrated database, ` +
          `CARRIER_URL unset (the in-process carrier simulator starts too)`,
        ours: med(starts, "shop"),
        context: context(starts),
        format: millis,
        goal: Verdict.atMost(startLimitMs, "ms")
      }))
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
