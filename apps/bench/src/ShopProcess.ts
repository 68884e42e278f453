/**
 * The shop as production runs it: `node apps/shop/dist/main.js`, a child process of its own, so
 * SIGTERM, RSS and exit codes are the real ones. Its log lines go to our stderr, prefixed.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import { BenchError } from "./BenchError.js"
import * as HttpGet from "./HttpGet.js"

/**
 * The shop's build output, found relative to this file (`apps/bench/{src,dist}` → `apps/shop/dist`);
 * `BENCH_SHOP_MAIN` points at another build instead (an A/B run of a copy with a proposed change).
 */
export const mainJs = process.env.BENCH_SHOP_MAIN?.trim() ||
  fileURLToPath(new URL("../../shop/dist/main.js", import.meta.url))

export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ShopProcess {
  readonly name: string
  readonly pid: number
  readonly baseUrl: string
  /** Spawn until the first `GET /readyz` that answered 200. */
  readonly startToReady: Duration.Duration
  /** Resident set size now, in bytes; `None` once the process is gone. */
  readonly rss: Effect.Effect<Option.Option<number>>
  /** Sends SIGTERM and waits for the exit: how long it took and how it ended. */
  readonly terminate: (timeout: Duration.DurationInput) => Effect.Effect<Terminated, BenchError>
}

export interface Terminated extends Exited {
  readonly took: Duration.Duration
  /** `Date.now()` when SIGTERM was sent, and when the exit was seen. */
  readonly signalledAt: number
  readonly exitedAt: number
}

export interface StartOptions {
  readonly name: string
  /** The shop's whole environment (PORT and HOST are added). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly readyTimeout: Duration.DurationInput
  /** Sees every output line with `Date.now()` at its arrival. */
  readonly onLine?: ((line: string, receivedAt: number) => void) | undefined
  /** Copy the output to our stderr, prefixed with the name (default). `false`: `onLine` decides. */
  readonly echo?: boolean | undefined
  /** What `node` runs (default {@link mainJs}): a peer of the shop (`peers/Peers.ts`) starts the same way. */
  readonly script?: string | undefined
  /** Run on these cores only (`taskset -c`, e.g. "0"); see `compare/Pinning.ts`. Default: any core. */
  readonly cpus?: string | undefined
}

export const freePort: Effect.Effect<number, BenchError> = Effect.async((resume) => {
  const server = Net.createServer()
  server.once("error", (cause) => resume(Effect.fail(new BenchError({ message: "no free port", cause }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** VmRSS from `/proc` (Linux), else `ps -o rss=` (macOS). */
export const rssOf = (pid: number): Effect.Effect<Option.Option<number>> =>
  Effect.sync(() => {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))
      return match ? Option.some(Number(match[1]) * 1024) : Option.none()
    } catch {
      try {
        const kb = Number(ChildProcess.execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }))
        return Number.isFinite(kb) && kb > 0 ? Option.some(kb * 1024) : Option.none()
      } catch {
        return Option.none()
      }
    }
  })

/**
 * Spawns the shop and waits until `/readyz` answers 200. Closing the scope stops a shop that is still
 * running: SIGTERM, then SIGKILL after 30 seconds.
 */
export const start = Effect.fn("ShopProcess.start")(function*(
  options: StartOptions
): Effect.fn.Return<ShopProcess, BenchError, Scope.Scope> {
  const script = options.script ?? mainJs
  if (!Fs.existsSync(script)) {
    return yield* new BenchError({ message: `${script} does not exist: run \`pnpm build\` first` })
  }
  const port = yield* freePort
  const baseUrl = `http://127.0.0.1:${port}`
  const recent: Array<string> = []
  const exited = yield* Deferred.make<Exited & { readonly at: number }>()

  const child = yield* Effect.acquireRelease(
    Effect.sync(() => {
      // taskset execs node: the child's pid is node's
      const [command, args] = options.cpus === undefined
        ? [process.execPath, [script]]
        : ["taskset", ["-c", options.cpus, process.execPath, script]]
      const child = ChildProcess.spawn(command, args, {
        cwd: options.cwd,
        env: { ...options.env, PORT: String(port), HOST: "127.0.0.1" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      child.once(
        "exit",
        (code, signal) => Deferred.unsafeDone(exited, Effect.succeed({ code, signal, at: Date.now() }))
      )
      child.once(
        "error",
        () => Deferred.unsafeDone(exited, Effect.succeed({ code: null, signal: null, at: Date.now() }))
      )
      for (const stream of [child.stdout, child.stderr]) {
        Readline.createInterface({ input: stream }).on("line", (line) => {
          recent.push(line)
          if (recent.length > 40) recent.shift()
          options.onLine?.(line, Date.now())
          if (options.echo !== false) process.stderr.write(`[${options.name}] ${line}\n`)
        })
      }
      return child
    }),
    (child) =>
      Deferred.isDone(exited).pipe(
        Effect.flatMap((done) =>
          done ? Effect.void : Effect.gen(function*() {
            child.kill("SIGTERM")
            const gone = yield* Deferred.await(exited).pipe(Effect.timeout(Duration.seconds(30)), Effect.option)
            if (Option.isNone(gone)) {
              child.kill("SIGKILL")
              yield* Deferred.await(exited)
            }
          })
        )
      )
  )
  const spawnedAt = Date.now()
  if (child.pid === undefined) {
    yield* Deferred.await(exited)
    return yield* new BenchError({ message: `cannot spawn ${process.execPath} ${script}` })
  }
  const pid = child.pid

  // a connection per probe, closed after the answer: a kept-alive one would still be open at a SIGTERM
  // right after the start, and the shop's shutdown would wait out its idle grace for it
  const probe = HttpGet.get(`${baseUrl}/readyz`, "1 second").pipe(
    Effect.map((response) => response.status === 200),
    Effect.orElseSucceed(() => false)
  )
  const waitReady = Effect.gen(function*() {
    while (true) {
      if (yield* Deferred.isDone(exited)) {
        const { code, signal } = yield* Deferred.await(exited)
        return yield* new BenchError({
          message: `${options.name} exited before it was ready (code ${code}, signal ${signal}); last output:\n` +
            recent.join("\n")
        })
      }
      if (yield* probe) return
      // every 10 ms: the start → ready figure is read to this precision (a refused connect costs nothing)
      yield* Effect.sleep(Duration.millis(10))
    }
  })
  yield* waitReady.pipe(
    Effect.timeoutFail({
      duration: options.readyTimeout,
      onTimeout: () =>
        new BenchError({
          message: `${options.name} not ready within ${Duration.format(options.readyTimeout)}; last output:\n` +
            recent.join("\n")
        })
    })
  )
  const startToReady = Duration.millis(Date.now() - spawnedAt)

  const terminate = (timeout: Duration.DurationInput) =>
    Effect.gen(function*() {
      const sentAt = Date.now()
      child.kill("SIGTERM")
      const { at, code, signal } = yield* Deferred.await(exited).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new BenchError({ message: `${options.name} did not exit within ${Duration.format(timeout)}` })
        })
      )
      const terminated: Terminated = {
        code,
        signal,
        took: Duration.millis(at - sentAt),
        signalledAt: sentAt,
        exitedAt: at
      }
      return terminated
    })

  const rss = Effect.flatMap(Deferred.isDone(exited), (done) => done ? Effect.succeedNone : rssOf(pid))
  return { name: options.name, pid, baseUrl, startToReady, rss, terminate }
})
