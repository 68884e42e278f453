/**
 * The processes a drill runs, started exactly as production starts them:
 *
 * - shop replicas, `node apps/shop/dist/main.js` with `LOG_FORMAT=json` and `PORT=0` (the port is
 *   read from the `Listening on …` line, then `/readyz` must answer 200);
 * - one standalone carrier simulator, `node apps/carrier-sim/dist/main.js`, a process of its own so
 *   that it outlives every shop the drill kills and its `/v1/stats` covers the whole drill.
 *
 * Every child is ours: it is signalled by its own handle (its PID), and SIGKILLed when the drill's
 * scope closes if it still runs. Each child's output is kept in memory and written to a log file.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"

export class DrillError
  extends Data.TaggedError("DrillError")<{ readonly message: string; readonly cause?: unknown }>
{}

/** `apps/bench/dist/drills` → `apps/shop/dist/main.js`, `apps/carrier-sim/dist/main.js`. */
export const shopMainJs = fileURLToPath(new URL("../../../shop/dist/main.js", import.meta.url))
export const carrierSimMainJs = fileURLToPath(new URL("../../../carrier-sim/dist/main.js", import.meta.url))

/** One line of the shop's `Logger.json`; `message` joined when several values were logged. */
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
  /** `Date.now()` when Node saw the exit. */
  readonly at: number
}

export interface Replica {
  /** `shop<slot>.<generation>`, e.g. `shop2.7`: slot 2, the 7th process started in the drill. */
  readonly name: string
  readonly slot: number
  readonly pid: number
  readonly port: number
  readonly spawnedAt: number
  readonly readyAt: number
  /** Every JSON line so far (embedded components' included). */
  readonly lines: Array<LogLine>
  /** stderr and non-JSON stdout. */
  readonly raw: Array<string>
  readonly logFile: string
  readonly exit: Promise<Exited>
  /** Set once the process exited. */
  readonly exited: () => Exited | undefined
  /** The signal the drill sent (first one) and when; set before the signal goes out. */
  readonly signalled: () => { readonly signal: NodeJS.Signals; readonly at: number } | undefined
  readonly kill: (signal: NodeJS.Signals) => void
}

export interface CarrierSimProcess {
  readonly pid: number
  readonly url: string
  readonly port: number
  readonly output: () => string
  readonly exited: () => boolean
}

const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "")

const alive = (child: ChildProcess.ChildProcess) => child.exitCode === null && child.signalCode === null

/** Spawns `node <script>`; the scope SIGKILLs it (by its handle) if it still runs and waits for it. */
const spawnNode = (script: string, env: Record<string, string>, cwd: string) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      if (!Fs.existsSync(script)) {
        return Effect.fail(new DrillError({ message: `${script} does not exist: run \`pnpm build\` first` }))
      }
      const child = ChildProcess.spawn(process.execPath, [script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
      return child.pid === undefined
        ? Effect.fail(new DrillError({ message: `cannot spawn ${process.execPath} ${script}` }))
        : Effect.succeed(child)
    }),
    (child) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          if (!alive(child)) return resolve()
          child.once("close", () => resolve())
          child.kill("SIGKILL")
        })
      )
  )

/** GET `url`; the status, or undefined when no answer came within 1 s. */
const probe = (url: string): Promise<number | undefined> =>
  new Promise((resolve) => {
    const req = Http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode))
      res.on("error", () => resolve(undefined))
    })
    req.on("timeout", () => req.destroy())
    req.on("error", () => resolve(undefined))
  })

export interface ShopStart {
  readonly slot: number
  readonly generation: number
  /** On top of PATH, LOG_FORMAT=json, PORT=0, HOST=127.0.0.1. */
  readonly env: Record<string, string>
  readonly cwd: string
  readonly logDir: string
}

/** Starts one shop replica and waits until it listens and `/readyz` answers 200 (30 s at most). */
export const startShop = (options: ShopStart): Effect.Effect<Replica, DrillError, Scope.Scope> =>
  Effect.gen(function*() {
    const name = `shop${options.slot}.${options.generation}`
    const spawnedAt = Date.now()
    const child = yield* spawnNode(shopMainJs, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...options.env,
      LOG_FORMAT: "json",
      PORT: "0",
      HOST: "127.0.0.1"
    }, options.cwd)
    const logFile = Path.join(options.logDir, `${name}-pid${child.pid}.log`)
    const log = Fs.createWriteStream(logFile)
    const lines: Array<LogLine> = []
    const raw: Array<string> = []
    const listeners = new Set<() => void>()
    const notify = () => listeners.forEach((listener) => listener())
    let exited: Exited | undefined
    let signalled: { signal: NodeJS.Signals; at: number } | undefined

    Readline.createInterface({ input: child.stdout! }).on("line", (text) => {
      log.write(text + "\n")
      if (text.trim() === "") return
      try {
        const parsed = JSON.parse(text)
        const message = Array.isArray(parsed.message) ? parsed.message.join(" ") : String(parsed.message)
        lines.push({ ...parsed, message, annotations: parsed.annotations ?? {} })
      } catch {
        raw.push(text)
      }
      notify()
    })
    Readline.createInterface({ input: child.stderr! }).on("line", (text) => {
      log.write(`[stderr] ${text}\n`)
      raw.push(text)
    })
    const exit = new Promise<Exited>((resolve) =>
      child.once("exit", (code, signal) => {
        exited = { code, signal, at: Date.now() }
        resolve(exited)
        notify()
      })
    )
    child.once("close", () => log.end())

    const describe = () =>
      `${name} (pid ${child.pid})${exited ? ` exited ${JSON.stringify(exited)}` : ""}; last output:\n` +
      [...lines.slice(-15).map((line) => `  ${line.logLevel} ${line.message}${line.cause ? ` ${line.cause}` : ""}`)]
        .join("\n") +
      (raw.length > 0 ? `\n  other output:\n  ${raw.slice(-15).join("\n  ")}` : "")

    const listening = yield* Effect.async<number, DrillError>((resume) => {
      const check = () => {
        const found = lines.find((line) =>
          line.annotations.service === undefined && /^Listening on http:\/\/[^:]+:\d+$/.test(line.message)
        )
        if (found) resume(Effect.succeed(Number(/:(\d+)$/.exec(found.message)![1])))
        else if (exited) resume(Effect.fail(new DrillError({ message: `did not start: ${describe()}` })))
        else return
        listeners.delete(check)
      }
      listeners.add(check)
      check()
      return Effect.sync(() => listeners.delete(check))
    }).pipe(
      Effect.timeoutFail({
        duration: "30 seconds",
        onTimeout: () => new DrillError({ message: `not listening within 30 s: ${describe()}` })
      })
    )
    const port = listening
    yield* Effect.gen(function*() {
      while (true) {
        if (exited) return yield* new DrillError({ message: `exited before ready: ${describe()}` })
        if ((yield* Effect.promise(() => probe(`http://127.0.0.1:${port}/readyz`))) === 200) return
        yield* Effect.sleep("25 millis")
      }
    }).pipe(
      Effect.timeoutFail({
        duration: "30 seconds",
        onTimeout: () => new DrillError({ message: `/readyz not 200 within 30 s: ${describe()}` })
      })
    )

    const replica: Replica = {
      name,
      slot: options.slot,
      pid: child.pid!,
      port,
      spawnedAt,
      readyAt: Date.now(),
      lines,
      raw,
      logFile,
      exit,
      exited: () => exited,
      signalled: () => signalled,
      kill: (signal) => {
        if (signalled === undefined) signalled = { signal, at: Date.now() }
        if (alive(child)) child.kill(signal)
      }
    }
    return replica
  })

/**
 * Starts the standalone carrier simulator on a free port of 127.0.0.1 with `env` (CARRIER_SIM_*) and
 * waits for its `carrier-sim: listening on …` line.
 */
export const startCarrierSim = (
  env: Record<string, string>,
  cwd: string,
  logDir: string
): Effect.Effect<CarrierSimProcess, DrillError, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* spawnNode(carrierSimMainJs, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      CARRIER_SIM_PORT: "0",
      CARRIER_SIM_HOST: "127.0.0.1",
      ...env
    }, cwd)
    const log = Fs.createWriteStream(Path.join(logDir, `carrier-sim-pid${child.pid}.log`))
    let output = ""
    const listeners = new Set<() => void>()
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding("utf8")
      stream.on("data", (chunk: string) => {
        log.write(chunk)
        output += stripAnsi(chunk)
        if (output.length > 1_000_000) output = output.slice(-500_000)
        listeners.forEach((listener) => listener())
      })
    }
    child.once("close", () => {
      log.end()
      listeners.forEach((listener) => listener())
    })
    const url = yield* Effect.async<string, DrillError>((resume) => {
      const check = () => {
        const match = /carrier-sim: listening on (http:\/\/[\w.:[\]]+)/.exec(output)
        if (match) resume(Effect.succeed(match[1]))
        else if (!alive(child)) {
          resume(Effect.fail(new DrillError({ message: `carrier-sim exited before listening:\n${output}` })))
        } else return
        listeners.delete(check)
      }
      listeners.add(check)
      check()
      return Effect.sync(() => listeners.delete(check))
    }).pipe(
      Effect.timeoutFail({
        duration: "30 seconds",
        onTimeout: () => new DrillError({ message: `carrier-sim not listening within 30 s:\n${output}` })
      })
    )
    return {
      pid: child.pid!,
      url,
      port: Number(new URL(url).port),
      output: () => output,
      exited: () => !alive(child)
    }
  })
