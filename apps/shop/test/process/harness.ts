/**
 * Runs the built service exactly as production does — `node apps/shop/dist/main.js`, no wrapper —
 * and talks to it the way the outside world does: signals, HTTP on 127.0.0.1, and its JSON log.
 *
 * Every handshake is a log line, a response or database state; waits are bounded and fail with
 * the child's output so a failure says what the service was doing.
 */
import type { CarrierApi } from "@shop/carrier-sim"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

export const repoRoot = Path.resolve(import.meta.dirname, "../../../..")
export const mainJs = Path.join(repoRoot, "apps/shop/dist/main.js")
export const carrierSimJs = Path.join(repoRoot, "apps/carrier-sim/dist/main.js")

/** One line of `Logger.json`; `message` is an array when several values were logged. */
export interface LogLine {
  readonly message: string
  readonly logLevel: string
  readonly timestamp: string
  readonly annotations: Record<string, unknown>
  readonly cause?: string
}

export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export class HarnessError extends Data.TaggedError("HarnessError")<{ readonly message: string }> {}

export type LogMatch = string | RegExp | ((line: LogLine) => boolean)

/**
 * The shop's own lines. Embedded components annotate theirs (the in-process carrier simulator logs
 * its own "Listening on", "draining" and "http drain" lines with `service: "carrier-sim"`).
 */
export const isOwn = (line: LogLine) => line.annotations.service === undefined

/** A string or RegExp matches the shop's own lines only; a predicate sees every line. */
const matches = (match: LogMatch, line: LogLine) =>
  typeof match === "string"
    ? isOwn(line) && line.message.includes(match)
    : match instanceof RegExp
    ? isOwn(line) && match.test(line.message)
    : match(line)

export interface ShopProcess {
  readonly pid: number
  /** The port the server bound (`PORT=0`, read from the `Listening on` line). */
  readonly port: number
  /** Every line, embedded components' included. */
  readonly logs: () => ReadonlyArray<LogLine>
  /** The messages of the shop's own lines, in order. */
  readonly messages: () => ReadonlyArray<string>
  /** stdout lines that were not JSON, and stderr. */
  readonly rawOutput: () => string
  /** The first line (seen so far or to come) that matches; fails if the process exits first or `bound` passes. */
  readonly waitForLog: (match: LogMatch, bound?: Duration.DurationInput) => Effect.Effect<LogLine, HarnessError>
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** Resolves once the process exited and its output was read to the end. */
  readonly exited: Promise<Exited>
  /** `exited`, failing if it takes longer than `bound`. */
  readonly awaitExit: (bound?: Duration.DurationInput) => Effect.Effect<Exited, HarnessError>
}

const running = new Set<ChildProcess.ChildProcess>()

/** For `afterEach`: SIGKILLs any child a test left behind (scopes normally do it already). */
export const killLeftovers = () => {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
}

/** A temporary directory, deleted with the scope. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )

/**
 * Starts the service with `env` on top of `LOG_FORMAT=json`, `PORT=0` and `PATH` (nothing else is
 * inherited from the test process), and waits until it listens. SIGKILLed when the scope closes if
 * it still runs.
 */
/**
 * `node <script>` from the repository root with only `PATH` and `env`, tracked for `killLeftovers`,
 * and SIGKILLed when the scope closes if it still runs.
 */
const spawnScoped = (script: string, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = ChildProcess.spawn(process.execPath, [script], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      running.add(child)
      return child
    }),
    (child) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          running.delete(child)
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once("close", () => resolve())
          child.kill("SIGKILL")
        })
      )
  )

export const start = (
  env: Record<string, string>,
  options: { readonly startBound?: Duration.DurationInput } = {}
): Effect.Effect<ShopProcess, HarnessError, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* spawnScoped(mainJs, { LOG_FORMAT: "json", PORT: "0", ...env })

    const lines: Array<LogLine> = []
    let raw = ""
    let exit: Exited | undefined
    const listeners = new Set<() => void>()
    const notify = () => listeners.forEach((listener) => listener())

    let partial = ""
    child.stdout!.setEncoding("utf8")
    child.stdout!.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n")
      partial = parts.pop()!
      for (const text of parts) {
        if (text.trim() === "") continue
        try {
          const parsed = JSON.parse(text)
          const message = Array.isArray(parsed.message) ? parsed.message.join(" ") : String(parsed.message)
          lines.push({ ...parsed, message })
        } catch {
          raw += text + "\n"
        }
      }
      notify()
    })
    child.stderr!.setEncoding("utf8")
    child.stderr!.on("data", (chunk: string) => (raw += chunk))
    const exited = new Promise<Exited>((resolve) =>
      child.once("close", (code, signal) => {
        running.delete(child)
        exit = { code, signal }
        notify()
        resolve(exit)
      })
    )

    const describe = () =>
      `pid ${child.pid}${exit ? `, exited ${JSON.stringify(exit)}` : ""}; log:\n` +
      lines.map((line) =>
        `  ${line.logLevel} ${isOwn(line) ? "" : `[${String(line.annotations.service)}] `}${line.message}${
          line.cause ? ` ${line.cause}` : ""
        }`
      ).join("\n") +
      (raw ? `\nother output:\n${raw}` : "")

    const waitForLog = (match: LogMatch, bound: Duration.DurationInput = "10 seconds") =>
      Effect.async<LogLine, HarnessError>((resume) => {
        const check = () => {
          const found = lines.find((line) => matches(match, line))
          if (found) resume(Effect.succeed(found))
          else if (exit) {
            resume(Effect.fail(new HarnessError({ message: `no log line ${match} before exit: ${describe()}` })))
          } else return false
          listeners.delete(check)
          return true
        }
        if (!check()) listeners.add(check)
        return Effect.sync(() => listeners.delete(check))
      }).pipe(
        Effect.timeoutFail({
          duration: bound,
          onTimeout: () =>
            new HarnessError({ message: `no log line ${match} within ${Duration.format(bound)}: ${describe()}` })
        })
      )

    const awaitExit = (bound: Duration.DurationInput = "10 seconds") =>
      Effect.promise(() => exited).pipe(
        Effect.timeoutFail({
          duration: bound,
          onTimeout: () => new HarnessError({ message: `still running after ${Duration.format(bound)}: ${describe()}` })
        })
      )

    const listening = yield* waitForLog(/^Listening on http:\/\/[^:]+:\d+$/, options.startBound ?? "20 seconds")
    return {
      pid: child.pid!,
      port: Number(/:(\d+)$/.exec(listening.message)![1]),
      logs: () => lines.slice(),
      messages: () => lines.filter(isOwn).map((line) => line.message),
      rawOutput: () => raw,
      waitForLog,
      kill: (signal) => Effect.sync(() => void child.kill(signal)),
      exited,
      awaitExit
    }
  })

/** Indices of `expected` (prefixes of messages) found in this order in `messages`; fails naming the first missing one. */
export const assertInOrder = (messages: ReadonlyArray<string>, expected: ReadonlyArray<string>) => {
  let from = 0
  for (const prefix of expected) {
    const index = messages.findIndex((message, i) => i >= from && message.includes(prefix))
    if (index < 0) {
      throw new Error(`"${prefix}" not found after position ${from} in:\n${messages.map((m) => `  ${m}`).join("\n")}`)
    }
    from = index + 1
  }
}

export interface Response {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  readonly json: any
}

/**
 * A request on a new connection (no agent), to 127.0.0.1. Fails with the socket error (its `code`),
 * or with `code: "TEST_TIMEOUT"` when no answer came within 15 seconds.
 */
export const request = (
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {}
): Effect.Effect<Response, NodeJS.ErrnoException> =>
  Effect.async<Response, NodeJS.ErrnoException>((resume) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = Http.request({
      host: "127.0.0.1",
      port,
      method,
      path,
      agent: false,
      headers: payload === undefined ? headers : { "content-type": "application/json", ...headers }
    }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk) => (text += chunk))
      res.on("error", (error) => resume(Effect.fail(error)))
      res.on("end", () => {
        let json: unknown = undefined
        try {
          json = JSON.parse(text)
        } catch {
          // not JSON (metrics)
        }
        resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, body: text, json }))
      })
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end(payload)
    return Effect.sync(() => req.destroy())
  }).pipe(
    Effect.timeoutFail({
      duration: "15 seconds",
      onTimeout: () =>
        Object.assign(new Error(`${method} ${path}: no answer within 15 s`), {
          code: "TEST_TIMEOUT"
        }) as NodeJS.ErrnoException
    })
  )

/** How a new TCP connection attempt ends: accepted, or refused (nothing listens). */
export const tryConnect = (port: number): Effect.Effect<"connected" | "refused", Error> =>
  Effect.async((resume) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed("connected"))
    })
    socket.once("error", (error: NodeJS.ErrnoException) =>
      resume(error.code === "ECONNREFUSED" ? Effect.succeed("refused") : Effect.fail(error)))
    return Effect.sync(() =>
      socket.destroy()
    )
  })

/**
 * A counter or gauge from a `/metrics` body: the sum over its label sets that carry every label of
 * `labels`; 0 when absent.
 */
export const metric = (text: string, name: string, labels: Readonly<Record<string, string>> = {}) =>
  text.split("\n")
    .filter((line) =>
      line.startsWith(name) && /^[\w]+(\{[^}]*\})? /.test(line) && line.split(/[{ ]/)[0] === name &&
      Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0)

export interface CarrierSimProcess {
  readonly pid: number
  /** e.g. `http://127.0.0.1:40123`, read from its `carrier-sim: listening on …` line. */
  readonly url: string
  readonly port: number
  /** `GET /v1/stats`. */
  readonly stats: () => Effect.Effect<CarrierApi.Stats, HarnessError>
  /** `GET /v1/shipments/{id}`: the status and the JSON body. */
  readonly shipment: (shipmentId: string) => Effect.Effect<Response, HarnessError>
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** Everything it printed (its log is always `Logger.pretty`). */
  readonly output: () => string
}

/**
 * Starts the standalone carrier simulator as production would, `node apps/carrier-sim/dist/main.js`,
 * with `env` on top of `CARRIER_SIM_PORT=0`, `CARRIER_SIM_HOST=127.0.0.1` and `PATH`, and waits
 * until it listens. A process of its own, so it outlives a shop that is SIGKILLed and keeps its
 * stats across the shop's restart. SIGKILLed when the scope closes if it still runs.
 */
export const startCarrierSim = (
  env: Record<string, string> = {}
): Effect.Effect<CarrierSimProcess, HarnessError, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* spawnScoped(carrierSimJs, { CARRIER_SIM_PORT: "0", CARRIER_SIM_HOST: "127.0.0.1", ...env })
    let output = ""
    const listeners = new Set<() => void>()
    const collect = (chunk: string) => {
      output += chunk
      listeners.forEach((listener) => listener())
    }
    child.stdout!.setEncoding("utf8")
    child.stderr!.setEncoding("utf8")
    child.stdout!.on("data", collect)
    child.stderr!.on("data", collect)
    const url = yield* Effect.async<string, HarnessError>((resume) => {
      const check = () => {
        const match = /carrier-sim: listening on (http:\/\/\S+)/.exec(output)
        if (match) resume(Effect.succeed(match[1]))
        else if (child.exitCode !== null || child.signalCode !== null) {
          resume(Effect.fail(new HarnessError({ message: `carrier-sim exited before listening:\n${output}` })))
        } else return
        listeners.delete(check)
        child.off("close", check)
      }
      listeners.add(check)
      child.once("close", check)
      check()
      return Effect.sync(() => {
        listeners.delete(check)
        child.off("close", check)
      })
    }).pipe(
      Effect.timeoutFail({
        duration: "20 seconds",
        onTimeout: () => new HarnessError({ message: `carrier-sim did not listen within 20s:\n${output}` })
      })
    )
    const port = Number(new URL(url).port)
    const get = (path: string) =>
      request(port, "GET", path).pipe(
        Effect.mapError((error) =>
          new HarnessError({ message: `carrier-sim GET ${path} failed: ${error.message}\n${output}` })
        )
      )
    return {
      pid: child.pid!,
      url,
      port,
      stats: () =>
        get("/v1/stats").pipe(
          Effect.filterOrFail(
            (response) => response.status === 200,
            (response) => new HarnessError({ message: `carrier-sim /v1/stats: ${response.status} ${response.body}` })
          ),
          Effect.map((response) => response.json as CarrierApi.Stats)
        ),
      shipment: (shipmentId) => get(`/v1/shipments/${encodeURIComponent(shipmentId)}`),
      kill: (signal) => Effect.sync(() => void child.kill(signal)),
      output: () => output
    }
  })
