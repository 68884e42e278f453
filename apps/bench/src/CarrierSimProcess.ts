/**
 * The standalone carrier simulator, `node apps/carrier-sim/dist/main.js`, as a child process of its
 * own (so its CPU is its own and it never competes with the shop's event loop), on a free port of
 * 127.0.0.1. Its URL is read from its `carrier-sim: listening on …` line; its log lines go to our
 * stderr, prefixed.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import { BenchError } from "./BenchError.js"
import { get } from "./HttpGet.js"

/** The simulator's build output, relative to this file (`apps/bench/{src,dist}` → `apps/carrier-sim/dist`). */
export const mainJs = fileURLToPath(new URL("../../carrier-sim/dist/main.js", import.meta.url))

/** `GET /v1/stats` (the fields the bench reads). */
export interface Stats {
  readonly shipments: number
  readonly bookingsByKey: Readonly<Record<string, number>>
  readonly requests: {
    readonly pending: number
    readonly booked: number
    readonly replayed: number
    readonly failed: number
    readonly rejected: number
  }
}

export interface CarrierSimProcess {
  readonly pid: number
  /** e.g. `http://127.0.0.1:40123` */
  readonly url: string
  readonly stats: Effect.Effect<Stats, BenchError>
}

export interface StartOptions {
  readonly name: string
  readonly cwd: string
  /** `CARRIER_SIM_*` settings; `CARRIER_SIM_PORT=0` and `CARRIER_SIM_HOST=127.0.0.1` are added. */
  readonly settings: Readonly<Record<string, string>>
}

/** Spawns the simulator and waits until it listens; closing the scope stops it (SIGTERM, SIGKILL after 15 s). */
export const start = Effect.fn("CarrierSimProcess.start")(function*(
  options: StartOptions
): Effect.fn.Return<CarrierSimProcess, BenchError, Scope.Scope> {
  if (!Fs.existsSync(mainJs)) {
    return yield* new BenchError({ message: `${mainJs} does not exist: run \`pnpm build\` first` })
  }
  const listening = yield* Deferred.make<string, BenchError>()
  const exited = yield* Deferred.make<void>()
  const recent: Array<string> = []
  const child = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const child = ChildProcess.spawn(process.execPath, [mainJs], {
        cwd: options.cwd,
        // nothing of ours leaks in: a CARRIER_SIM_* in the bench's environment would change the figures
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          ...options.settings,
          CARRIER_SIM_PORT: "0",
          CARRIER_SIM_HOST: "127.0.0.1"
        },
        stdio: ["ignore", "pipe", "pipe"]
      })
      child.once("exit", (code, signal) => {
        Deferred.unsafeDone(
          listening,
          Effect.fail(
            new BenchError({
              message: `${options.name} exited before listening (code ${code}, signal ${signal}):\n${recent.join("\n")}`
            })
          )
        )
        Deferred.unsafeDone(exited, Effect.void)
      })
      child.once("error", (cause) => {
        Deferred.unsafeDone(listening, Effect.fail(new BenchError({ message: `cannot spawn ${mainJs}`, cause })))
        Deferred.unsafeDone(exited, Effect.void)
      })
      for (const stream of [child.stdout, child.stderr]) {
        Readline.createInterface({ input: stream }).on("line", (line) => {
          recent.push(line)
          if (recent.length > 40) recent.shift()
          process.stderr.write(`[${options.name}] ${line}\n`)
          const match = /carrier-sim: listening on (http:\/\/\S+)/.exec(line)
          if (match) Deferred.unsafeDone(listening, Effect.succeed(match[1]))
        })
      }
      return child
    }),
    (child) =>
      Deferred.isDone(exited).pipe(
        Effect.flatMap((done) =>
          done ? Effect.void : Effect.gen(function*() {
            child.kill("SIGTERM")
            const gone = yield* Deferred.await(exited).pipe(Effect.timeout(Duration.seconds(15)), Effect.option)
            if (Option.isNone(gone)) {
              child.kill("SIGKILL")
              yield* Deferred.await(exited)
            }
          })
        )
      )
  )
  const url = yield* Deferred.await(listening).pipe(
    Effect.timeoutFail({
      duration: Duration.seconds(30),
      onTimeout: () => new BenchError({ message: `${options.name} not listening within 30 s:\n${recent.join("\n")}` })
    })
  )
  const stats = get(`${url}/v1/stats`).pipe(
    Effect.flatMap(({ body, status }) =>
      status === 200
        ? Effect.try({
          try: () => JSON.parse(body) as Stats,
          catch: (cause) => new BenchError({ message: `${options.name} /v1/stats: not JSON`, cause })
        })
        : new BenchError({ message: `${options.name} /v1/stats answered ${status}: ${body}` })
    )
  )
  return { pid: child.pid ?? 0, url, stats }
})
