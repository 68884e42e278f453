/**
 * Rows 1–3: `GET /v1/orders/{id}` and `POST /v1/orders` on the shop, the Fastify peer and the bare
 * `node:http` peer, each a process of its own on a fresh database holding the same 2,000 orders
 * (ids 1–2,000, inserted by SQL before it starts); GETs rotate over them. The machine is noisy, so
 * the stacks take turns per round and endpoint, in an order that rotates each round (`Turns`), and
 * the median of the rounds is reported. Every process's RSS is sampled every 100 ms from its start
 * to the end of the rounds.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { BenchError } from "../BenchError.js"
import { cpuPerRequest, cpuSeconds } from "../CpuUsage.js"
import * as FulfillmentRun from "../FulfillmentRun.js"
import * as HttpLoad from "../HttpLoad.js"
import * as PeerRun from "../peers/PeerRun.js"
import { int, mb, ms, table } from "../Report.js"
import * as ShopProcess from "../ShopProcess.js"
import * as Section from "./Section.js"
import * as Stacks from "./Stacks.js"
import * as Table from "./Table.js"
import * as Turns from "./Turns.js"
import * as Verdict from "./Verdict.js"

export type Endpoint = "GET" | "POST"

export interface HttpOptions extends Section.Setup {
  readonly rounds: number
  readonly duration: Duration.Duration
  readonly warmup: Duration.Duration
  readonly connections: number
  readonly endpoints: ReadonlyArray<Endpoint>
  /** Which of rows 1–3 to show. */
  readonly show: { readonly get: boolean; readonly post: boolean; readonly rss: boolean }
  /** `taskset -c` cores for the servers (`Pinning`). */
  readonly serverCpus: string | undefined
}

export const seededOrders = 2000
/** The RSS target of the issue, in MB. */
export const rssLimitMb = 150

const title = (endpoint: Endpoint) => (endpoint === "GET" ? "GET /v1/orders/{id}" : "POST /v1/orders")

/** One stack on a fresh database with seeded orders, started, its RSS sampled every 100 ms. */
const startStack = (options: HttpOptions, stack: (typeof Stacks.http)[number]) =>
  Effect.gen(function*() {
    const db = yield* PeerRun.freshDatabase(options.adminUrl, `http_${stack.key}`, 1)
    const { first, last } = yield* FulfillmentRun.seedOrders(db.sql, seededOrders, "pending").pipe(
      Effect.mapError((cause) => new BenchError({ message: `seeding ${stack.name}: ${cause.message}`, cause }))
    )
    const server = yield* ShopProcess.start({
      name: stack.key,
      script: stack.script,
      cwd: options.cwd,
      env: { ...options.env, DATABASE_URL: Redacted.value(db.url) },
      readyTimeout: options.readyTimeout,
      cpus: options.serverCpus
    })
    console.log(`${stack.name} (pid ${server.pid}) ready in ${ms(server.startToReady)}`)
    const atReady = Option.getOrElse(yield* server.rss, () => 0)
    let peak = atReady
    const sampler = yield* Effect.fork(Effect.repeat(
      Effect.tap(server.rss, (rss) => Effect.sync(() => peak = Math.max(peak, Option.getOrElse(rss, () => 0)))),
      Schedule.spaced("100 millis")
    ))
    const ids = Array.from({ length: last - first + 1 }, (_, i) => first + i)
    return { stack, server, ids, sampler, atReady, peak: () => peak }
  })

type Running = ReadonlyArray<Effect.Effect.Success<ReturnType<typeof startStack>>>

const key = (endpoint: Endpoint, stack: Stacks.Key) => `${endpoint} ${stack}`

/** A measured run, with the server's CPU time per request over it (utime + stime from /proc). */
interface Measured extends HttpLoad.LoadResult {
  readonly cpuMicros: number
}

/** Each round, each endpoint, each stack in turn (`Turns`): warm-up, then the measured run. */
const rounds = (options: HttpOptions, running: Running, failures: Array<string>) =>
  Effect.gen(function*() {
    const results = new Map<string, Array<Measured>>()
    const roundLines: Array<ReadonlyArray<string>> = []
    for (let round = 1; round <= options.rounds; round++) {
      for (const endpoint of options.endpoints) {
        const cells: Array<string> = []
        for (const [{ ids, server, stack }, column] of Turns.inRound(running, round)) {
          const load: HttpLoad.LoadOptions = { ...options, baseUrl: server.baseUrl }
          const request = endpoint === "GET" ? HttpLoad.getOrders(ids) : HttpLoad.createOrders()
          const label = `round ${round}/${options.rounds}, ${stack.name}, ${title(endpoint)}`
          yield* HttpLoad.warmUp(label, load, request)
          const before = cpuSeconds(server.pid)
          const result = yield* HttpLoad.measure(label, load, request)
          const cpuMicros = cpuPerRequest(before, cpuSeconds(server.pid), result.requests)
          const list = results.get(key(endpoint, stack.key)) ?? []
          list.push({ ...result, cpuMicros })
          results.set(key(endpoint, stack.key), list)
          if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
            failures.push(
              `${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts (${result.statuses})`
            )
          }
          cells[column] = `${int(result.requestsPerSecond)} req/s, p99 ${result.p99} ms, ${cpuMicros.toFixed(0)} µs/req`
        }
        console.log(
          `round ${round}, ${title(endpoint)}: ${cells.map((c, i) => `${Stacks.http[i].name} ${c}`).join("; ")}`
        )
        roundLines.push([String(round), title(endpoint), ...cells])
      }
    }
    return { results, roundLines }
  })

const rps = (n: number) => `${int(n)} req/s`
const millis = (n: number) => `${int(n)} ms`

/** Rows 1 and 2 (the medians of the rounds) and 3 (the peak RSS). */
const lines = (
  options: HttpOptions,
  results: ReadonlyMap<string, ReadonlyArray<Measured>>,
  running: Running
): Array<Table.Line> => {
  const med = (endpoint: Endpoint, stack: Stacks.Key, pick: (r: Measured) => number) =>
    Verdict.median((results.get(key(endpoint, stack)) ?? []).map(pick))
  const conditions = `${options.connections} connections, median of ${options.rounds}`
  const endpointLines = (endpoint: Endpoint, vsBare: Verdict.Goal | undefined) => [
    Table.versus({
      figure: `${title(endpoint)} req/s (${conditions})`,
      ours: med(endpoint, "shop", (r) => r.requestsPerSecond),
      peer: med(endpoint, "fastify", (r) => r.requestsPerSecond),
      peerName: "Fastify",
      format: rps,
      goal: Verdict.atLeastTimes(0.9)
    }),
    Table.versus({
      figure: `${title(endpoint)} req/s vs bare node:http + pg`,
      ours: med(endpoint, "shop", (r) => r.requestsPerSecond),
      peer: med(endpoint, "bare", (r) => r.requestsPerSecond),
      peerName: "bare",
      format: rps,
      goal: vsBare
    }),
    Table.versus({
      figure: `${title(endpoint)} latency p99`,
      ours: med(endpoint, "shop", (r) => r.p99),
      peer: med(endpoint, "fastify", (r) => r.p99),
      peerName: "Fastify",
      format: millis,
      goal: Verdict.atMostTimes(1.5)
    }),
    // context for the req/s rows: it moves much less than req/s with what PostgreSQL and the
    // machine's neighbours do during the run
    Table.versus({
      figure: `${title(endpoint)} server CPU per request (median of ${options.rounds})`,
      ours: med(endpoint, "shop", (r) => r.cpuMicros),
      peer: med(endpoint, "fastify", (r) => r.cpuMicros),
      peerName: "Fastify",
      format: (n) => `${n.toFixed(0)} µs`,
      goal: undefined
    })
  ]
  const out: Array<Table.Line> = []
  if (options.show.get && options.endpoints.includes("GET")) {
    out.push(...endpointLines("GET", Verdict.atLeastTimes(0.75)))
  }
  // against bare node the POST row is context: the issue sets no target for it
  if (options.show.post && options.endpoints.includes("POST")) out.push(...endpointLines("POST", undefined))
  if (options.show.rss) {
    const peak = (stack: Stacks.Key) => running.find((r) => r.stack.key === stack)?.peak() ?? 0
    out.push(Table.bounded({
      figure: `peak RSS during the HTTP load runs (shop at ready: ${mb(running[0].atReady)})`,
      ours: peak("shop") / 1024 / 1024,
      context: `Fastify ${mb(peak("fastify"))}, bare ${mb(peak("bare"))}`,
      format: (n) => `${n.toFixed(0)} MB`,
      goal: Verdict.atMost(rssLimitMb, "MB")
    }))
  }
  return out
}

export const run = (options: HttpOptions): Effect.Effect<Section.Section, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const failures: Array<string> = []
    const running = yield* Effect.forEach(Stacks.http, (stack) => startStack(options, stack))
    const { results, roundLines } = yield* rounds(options, running, failures)
    for (const { sampler } of running) yield* Fiber.interrupt(sampler)
    for (const { server, stack } of running) {
      const exited = yield* server.terminate("30 seconds")
      if (exited.code !== 0) failures.push(`${stack.name} exited with ${exited.code ?? exited.signal} on SIGTERM`)
    }
    const roundsTable = table(["round", "endpoint", ...Stacks.http.map((s) => s.name)], roundLines)
    return {
      lines: lines(options, results, running),
      failures,
      notes: [
        `HTTP rounds (autocannon, ${options.connections} connections, ${ms(options.warmup)} warm-up + ` +
        `${ms(options.duration)} measured each; req/s is the mean of the per-second samples):\n\n${roundsTable}`
      ]
    }
  }))
