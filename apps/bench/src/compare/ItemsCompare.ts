/**
 * Row 9: the HTTP stack alone, no database. `GET /items/{id}` and `POST /items` (ItemsApi: a path
 * parameter, a JSON body, schemas both ways) on the shop's fast server, the standard
 * `HttpApiBuilder.serve` (as it comes, and with the tracer off as the shop runs), Fastify and bare
 * `node:http`. The figure is the server's CPU time per
 * request (utime + stime of its process over the measured run ÷ requests answered): unlike req/s it
 * does not depend on whether the load generator or the server saturates first. The stacks take turns
 * per round and endpoint, in an order that rotates each round (`Turns`); the median of the rounds is
 * reported.
 */
import { OtlpReceiver } from "@shop/telemetry"
import type autocannon from "autocannon"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { BenchError } from "../BenchError.js"
import { cpuPerRequest, cpuSeconds } from "../CpuUsage.js"
import * as HttpLoad from "../HttpLoad.js"
import * as Items from "../items/Items.js"
import { int, mb, table } from "../Report.js"
import * as ShopProcess from "../ShopProcess.js"
import type * as Section from "./Section.js"
import * as Table from "./Table.js"
import * as Turns from "./Turns.js"
import * as Verdict from "./Verdict.js"

export interface ItemsOptions extends Section.Setup {
  readonly rounds: number
  readonly duration: Duration.Duration
  readonly warmup: Duration.Duration
  readonly connections: number
  /** `taskset -c` cores for the servers (`Pinning`). */
  readonly serverCpus: string | undefined
}

type Endpoint = "GET" | "POST"
const endpoints: ReadonlyArray<Endpoint> = ["GET", "POST"]
const title = (endpoint: Endpoint) => (endpoint === "GET" ? "GET /items/{id}" : "POST /items")
const request = (endpoint: Endpoint): autocannon.Request => endpoint === "GET" ? Items.getItems() : Items.createItems()

interface Measured {
  readonly requestsPerSecond: number
  /** Server CPU per request, in microseconds. */
  readonly cpuMicros: number
}

const start = (options: ItemsOptions, collectorUrl: string) =>
  Effect.forEach(Items.stacks, (stack) =>
    Effect.map(
      ShopProcess.start({
        name: `items-${stack.key}`,
        script: stack.script,
        cwd: options.cwd,
        env: {
          ...options.env,
          ...stack.env,
          ...("otlp" in stack ? { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl } : {})
        },
        readyTimeout: options.readyTimeout,
        cpus: options.serverCpus
      }),
      (server) => ({ stack, server, peakRss: 0 })
    ))

type Running = Effect.Effect.Success<ReturnType<typeof start>>

const key = (endpoint: Endpoint, stack: Items.Key) => `${endpoint} ${stack}`

/** Each round, each endpoint, each stack in turn (`Turns`): warm-up, the measured run, the server's CPU over it. */
const rounds = (options: ItemsOptions, running: Running, failures: Array<string>) =>
  Effect.gen(function*() {
    const results = new Map<string, Array<Measured>>()
    const roundLines: Array<ReadonlyArray<string>> = []
    for (let round = 1; round <= options.rounds; round++) {
      for (const endpoint of endpoints) {
        const cells: Array<string> = []
        for (const [entry, column] of Turns.inRound(running, round)) {
          const { server, stack } = entry
          const load: HttpLoad.LoadOptions = { ...options, baseUrl: server.baseUrl }
          const label = `items round ${round}/${options.rounds}, ${stack.name}, ${title(endpoint)}`
          yield* HttpLoad.warmUp(label, load, request(endpoint))
          const before = cpuSeconds(server.pid)
          const result = yield* HttpLoad.measure(label, load, request(endpoint))
          const after = cpuSeconds(server.pid)
          entry.peakRss = Math.max(entry.peakRss, Option.getOrElse(yield* server.rss, () => 0))
          if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
            failures.push(
              `${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts (${result.statuses})`
            )
          }
          const cpuMicros = cpuPerRequest(before, after, result.requests)
          const list = results.get(key(endpoint, stack.key)) ?? []
          list.push({ requestsPerSecond: result.requestsPerSecond, cpuMicros })
          results.set(key(endpoint, stack.key), list)
          cells[column] = `${int(result.requestsPerSecond)} req/s, ${cpuMicros.toFixed(0)} µs/req`
        }
        roundLines.push([String(round), title(endpoint), ...cells])
      }
    }
    return { results, roundLines }
  })

const micros = (n: number) => `${n.toFixed(0)} µs`

/** Row 9: the medians of the rounds. */
const lines = (options: ItemsOptions, results: ReadonlyMap<string, ReadonlyArray<Measured>>): Array<Table.Line> => {
  const med = (endpoint: Endpoint, stack: Items.Key, pick: (m: Measured) => number) =>
    Verdict.median((results.get(key(endpoint, stack)) ?? []).map(pick).filter(Number.isFinite))
  /** A row of server CPU per request, `ours` against `peer`. */
  const cpu = (
    endpoint: Endpoint,
    figure: string,
    [ours, peer, peerName]: readonly [Items.Key, Items.Key, string],
    goal: Verdict.Goal | undefined
  ) =>
    Table.versus({
      figure: `no database, ${title(endpoint)}: ${figure}`,
      ours: med(endpoint, ours, (m) => m.cpuMicros),
      peer: med(endpoint, peer, (m) => m.cpuMicros),
      peerName,
      format: micros,
      goal
    })
  return endpoints.flatMap((endpoint) => [
    cpu(
      endpoint,
      `server CPU per request (median of ${options.rounds})`,
      ["fast", "fastify", "Fastify"],
      Verdict.atMostTimes(1.3)
    ),
    cpu(
      endpoint,
      "CPU per request vs the standard HttpApiBuilder.serve (≥ 5× less)",
      ["fast", "standard", "standard"],
      Verdict.atMostTimes(0.2)
    ),
    cpu(
      endpoint,
      "the same vs HttpApiBuilder.serve with the tracer off, as the fast server runs",
      ["fast", "standardNoTracer", "standard, tracer off"],
      undefined
    ),
    cpu(
      endpoint,
      "the fast server exporting every request's span over OTLP vs no tracing",
      ["fastTraced", "fast", "no tracing"],
      undefined
    ),
    Table.versus({
      figure: `no database, ${title(endpoint)}: req/s (${options.connections} connections; bare node ${
        int(med(endpoint, "bare", (m) => m.requestsPerSecond) ?? Number.NaN)
      } req/s)`,
      ours: med(endpoint, "fast", (m) => m.requestsPerSecond),
      peer: med(endpoint, "fastify", (m) => m.requestsPerSecond),
      peerName: "Fastify",
      format: (n) => `${int(n)} req/s`,
      goal: undefined
    })
  ])
}

export const run = (options: ItemsOptions): Effect.Effect<Section.Section, BenchError> =>
  Effect.scoped(Effect.gen(function*() {
    const failures: Array<string> = []
    const collector = yield* OtlpReceiver.start({ keep: false })
    const running = yield* start(options, collector.url)
    const { results, roundLines } = yield* rounds(options, running, failures)
    for (const { server, stack } of running) {
      const exited = yield* server.terminate("30 seconds")
      if (exited.code !== 0) failures.push(`${stack.name} exited with ${exited.code ?? exited.signal} on SIGTERM`)
    }
    const roundsTable = table(["round", "endpoint", ...Items.stacks.map((s) => s.name)], roundLines)
    const rss = running.map(({ peakRss, stack }) => `${stack.name} ${mb(peakRss)}`).join(", ")
    return {
      lines: lines(options, results),
      failures,
      notes: [
        `No-database rounds (server CPU per request from /proc/<pid>/stat over each measured run; peak RSS ` +
        `${rss}):\n\n${roundsTable}`,
        `The traced stack exported ${int(collector.spanCount())} spans to an OTLP/HTTP receiver in the bench process.`
      ]
    }
  }))
