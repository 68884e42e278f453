/**
 * Rows 4 and 5: fulfillment transitions/s for N paid orders (2·N transitions, the clock from the
 * seed's commit until none is paid or picking) — the shop with one replica at `FULFILLMENT_BATCH`
 * 100 (and 500), the same with two replicas on one database, graphile-worker and pg-boss doing the
 * same transitions as jobs, and pgbench running the shop's tick statement (script B, 8 clients): the
 * limit of the database for that statement. Each run on a fresh database; one run each.
 *
 * graphile-worker is slow (a few hundred transitions/s), so it runs last with what is left of the
 * time budget: fewer orders when 20,000 would not fit, said in the row.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { BenchError } from "../BenchError.js"
import * as FulfillmentRun from "../FulfillmentRun.js"
import * as GraphileWorkerRun from "../peers/GraphileWorkerRun.js"
import * as PeerRun from "../peers/PeerRun.js"
import * as PgBenchRun from "../peers/PgBenchRun.js"
import * as PgBossRun from "../peers/PgBossRun.js"
import { int, ms } from "../Report.js"
import * as Section from "./Section.js"
import * as Table from "./Table.js"
import * as Verdict from "./Verdict.js"

export interface FulfillmentOptions extends Section.Setup {
  readonly orders: number
  /** `Date.now()` by which graphile-worker, the last run, should be done. */
  readonly deadline: number
  readonly show: { readonly peers: boolean; readonly replicas: boolean }
}

export const batch = 100
export const largeBatch = 500
/** graphile-worker's rate here, on the low side, to size its run to the time left. */
const graphileRate = 300
const pgbench = { seconds: 5, clients: 8 } as const

const perSecond = (n: number) => `${int(n)}/s`

type Attempt = <A>(name: string, effect: Effect.Effect<A, BenchError>) => Effect.Effect<A | undefined>

/** One failed run leaves the others' figures (and is a failed check). */
const attempter = (failures: Array<string>): Attempt => (name, effect) =>
  Effect.gen(function*() {
    console.log(`${name}…`)
    const started = Date.now()
    const outcome = yield* Effect.either(effect)
    if (Either.isLeft(outcome)) {
      console.error(`${name} failed after ${ms(Duration.millis(Date.now() - started))}: ${outcome.left.message}`)
      failures.push(`${name}: ${outcome.left.message}`)
      return undefined
    }
    return outcome.right
  })

/** The shop at `size` with `replicas` replicas on a fresh database. */
const shopRun =
  (options: FulfillmentOptions, attempt: Attempt, failures: Array<string>) => (size: number, replicas: number) =>
    attempt(
      `shop, FULFILLMENT_BATCH=${size}, ${replicas} replica(s)`,
      Effect.scoped(Effect.gen(function*() {
        const db = yield* PeerRun.freshDatabase(options.adminUrl, `fulfil_${size}_${replicas}`)
        const outcome = yield* FulfillmentRun.phase(db.sql, {
          batch: size,
          orders: options.orders,
          interval: Duration.millis(10),
          timeout: Duration.minutes(2),
          readyTimeout: options.readyTimeout,
          env: { ...options.env, DATABASE_URL: Redacted.value(db.url) },
          cwd: options.cwd,
          replicas
        })
        failures.push(...outcome.failures)
        return outcome
      }))
    )

/** graphile-worker last, with what is left of the time budget (less ~15 s for its database, seed and stop). */
const graphileRun = (options: FulfillmentOptions, attempt: Attempt, notes: Array<string>) =>
  Effect.gen(function*() {
    const left = (options.deadline - Date.now()) / 1000 - 15
    const fits = Math.floor((left * graphileRate) / 2 / 1000) * 1000
    const orders = Math.max(1000, Math.min(options.orders, fits))
    if (orders < options.orders) {
      notes.push(
        `graphile-worker ran ${int(orders)} orders instead of ${int(options.orders)}: ` +
          `at ~${graphileRate} transitions/s the full run would not have fitted the time budget.`
      )
    }
    const result = yield* attempt(
      `graphile-worker, ${int(orders)} orders`,
      GraphileWorkerRun.run(options.adminUrl, { orders, timeout: Duration.seconds(Math.max(120, left + 60)) })
    )
    return { orders, result }
  })

/** Every run of the section, in turn: the figures, or `undefined` for a run that failed or was not asked for. */
const measure = (options: FulfillmentOptions) =>
  Effect.gen(function*() {
    const failures: Array<string> = []
    const notes: Array<string> = []
    const attempt = attempter(failures)
    const shop = shopRun(options, attempt, failures)
    const one = yield* shop(batch, 1)
    const two = options.show.replicas ? yield* shop(batch, 2) : undefined
    const large = options.show.peers ? yield* shop(largeBatch, 1) : undefined
    const ticks = (yield* PgBenchRun.installed())
      ? yield* attempt(
        "pgbench, script B (the shop's tick)",
        PgBenchRun.run(options.adminUrl, {
          ...pgbench,
          batches: options.show.peers ? [batch, largeBatch] : [batch],
          orders: options.orders,
          one: false
        })
      )
      : undefined
    if (ticks === undefined) notes.push(`pgbench: not run (${PgBenchRun.defaultPath} missing or failed)`)
    const queues = { orders: options.orders, timeout: Duration.minutes(5) }
    const boss = options.show.peers ? yield* attempt("pg-boss", PgBossRun.run(options.adminUrl, queues)) : undefined
    const graphile = options.show.peers
      ? yield* graphileRun(options, attempt, notes)
      : { orders: options.orders, result: undefined }
    return { one, two, large, ticks, boss, graphile, failures, notes }
  })

type Figures = Effect.Effect.Success<ReturnType<typeof measure>>

const tickRateOf = (figures: Figures) => (size: number) =>
  figures.ticks?.find((r) => r.batch === size)?.transitionsPerSecond

/** Row 4: one replica against graphile-worker, pg-boss and pgbench (the database's limit). */
const peerLines = (options: FulfillmentOptions, figures: Figures): Array<Table.Line> => {
  const oneRate = figures.one?.result.transitionsPerSecond
  const graphileOrders = figures.graphile.orders
  const tickRate = tickRateOf(figures)
  const orders = `${int(options.orders)} paid orders`
  return [
    Table.versus({
      figure: `fulfillment transitions/s, ${orders}, one replica, FULFILLMENT_BATCH=${batch} vs graphile-worker` +
        (graphileOrders < options.orders ? ` (graphile-worker: ${int(graphileOrders)} orders, time budget)` : ""),
      ours: oneRate,
      peer: figures.graphile.result?.transitionsPerSecond,
      peerName: "graphile-worker",
      format: perSecond,
      goal: Verdict.atLeastTimes(2)
    }),
    Table.versus({
      figure: `fulfillment transitions/s, one replica, batch ${batch} vs pg-boss (batchSize ${batch})`,
      ours: oneRate,
      peer: figures.boss?.transitionsPerSecond,
      peerName: "pg-boss",
      format: perSecond,
      goal: Verdict.atLeastTimes(2)
    }),
    ...([[batch, oneRate], [largeBatch, figures.large?.result.transitionsPerSecond]] as const).map(([size, rate]) =>
      Table.versus({
        figure: `fulfillment transitions/s, one replica, batch ${size} vs pgbench: the shop's tick at batch ` +
          `${size}, ${pgbench.clients} clients (the database's limit)`,
        ours: rate,
        peer: tickRate(size),
        peerName: "pgbench B",
        format: perSecond,
        goal: Verdict.atLeastTimes(0.5)
      })
    )
  ]
}

/** Row 5: two replicas on one database against one replica and pgbench. */
const replicasLine = (figures: Figures): Table.Line => {
  const { one, two } = figures
  const oneRate = one?.result.transitionsPerSecond
  const twoRate = two?.result.transitionsPerSecond
  const dbRate = tickRateOf(figures)(batch)
  const split = two !== undefined && two.perReplica.length === 2
    ? `; split ${two.perReplica.map((n) => `${((100 * n) / two.result.transitions).toFixed(0)}%`).join(" / ")}`
    : ""
  return {
    figure: `fulfillment transitions/s, two replicas on one database, batch ${batch}${split}`,
    ours: twoRate === undefined ? "n/a" : perSecond(twoRate),
    peer: `one replica ${oneRate === undefined ? "n/a" : perSecond(oneRate)}; pgbench B ${
      dbRate === undefined ? "n/a" : perSecond(dbRate)
    }`,
    ratio: `${Verdict.times(Verdict.ratio(twoRate, oneRate))} one; ${
      Verdict.times(Verdict.ratio(twoRate, dbRate))
    } pgbench`,
    target: "≥ 1.5× one replica, or ≥ 0.5× pgbench B (the DB limit)",
    verdict: Verdict.anyOf([
      Verdict.judge(Verdict.atLeastTimes(1.5), twoRate, oneRate),
      Verdict.judge(Verdict.atLeastTimes(0.5), twoRate, dbRate)
    ])
  }
}

export const run = (options: FulfillmentOptions): Effect.Effect<Section.Section, never> =>
  Effect.map(measure(options), (figures) => ({
    lines: [
      ...(options.show.peers ? peerLines(options, figures) : []),
      ...(options.show.replicas ? [replicasLine(figures)] : [])
    ],
    failures: figures.failures,
    notes: figures.notes
  }))
