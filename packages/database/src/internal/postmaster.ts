/**
 * Process-level helpers for a PostgreSQL server we did not necessarily start ourselves: its
 * `postmaster.pid` lock file, whether its process is alive, and stopping it by signal.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"

/** The lines of `postmaster.pid` we rely on (PostgreSQL's `pidfile.h`: 1 pid, 4 port, 8 status). */
export interface PidFile {
  readonly pid: number
  readonly port: number
  /** `starting`, `stopping`, `ready` or `standby` (PostgreSQL ≥ 10). */
  readonly status: string
}

export const pidFilePath = (dataDir: string): string => Path.join(dataDir, "postmaster.pid")

/** `None` when there is no lock file, or when it is too short to be trusted (being written right now). */
export const readPidFile = (dataDir: string): Effect.Effect<Option.Option<PidFile>> =>
  Effect.sync(() => {
    let text: string
    try {
      text = Fs.readFileSync(pidFilePath(dataDir), "utf8")
    } catch {
      return Option.none()
    }
    const lines = text.split("\n")
    const pid = Number.parseInt(lines[0] ?? "", 10)
    const port = Number.parseInt(lines[3] ?? "", 10)
    return Number.isInteger(pid) && pid > 0 && Number.isInteger(port)
      ? Option.some({ pid, port, status: (lines[7] ?? "").trim() })
      : Option.none()
  })

export const removePidFile = (dataDir: string): Effect.Effect<void> =>
  Effect.sync(() => Fs.rmSync(pidFilePath(dataDir), { force: true }))

/**
 * Whether `pid` is a running PostgreSQL postmaster. `kill(pid, 0)` alone is not enough: a zombie
 * still answers it, and after a reboot or container restart the recorded pid may belong to an
 * unrelated process. Where `/proc` exists we check both; elsewhere (macOS) we trust `kill`.
 */
export const isPostmasterAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: alive, but owned by another user (the `postgres` user when we run as root and are not)
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false
  }
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    if (state === "Z" || state === "X") return false
    return Fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres"
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ENOENT" || !Fs.existsSync("/proc/self")
  }
}

/** Polls `check` every 50 ms until it yields `true`; `false` when `timeout` passes first. */
export const pollUntil = <E, R>(
  check: Effect.Effect<boolean, E, R>,
  timeout: Duration.DurationInput
): Effect.Effect<boolean, E, R> =>
  check.pipe(
    Effect.repeat({ schedule: Schedule.spaced(Duration.millis(50)), until: (done) => done }),
    Effect.as(true),
    // interruptible: this runs inside finalizers, where a timeout would otherwise never fire
    Effect.interruptible,
    Effect.timeoutOption(timeout),
    Effect.map(Option.isSome)
  )

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

/**
 * Stops a postmaster: SIGINT is PostgreSQL's "fast" shutdown (roll back open transactions, checkpoint,
 * exit). If it is not gone within `timeout`, SIGQUIT ("immediate", crash recovery on next start).
 * Returns whether the process is gone.
 */
export const stopPostmaster = (pid: number, timeout: Duration.DurationInput): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const gone = Effect.sync(() => !isPostmasterAlive(pid))
    if (yield* gone) return true
    signal(pid, "SIGINT")
    if (yield* pollUntil(gone, timeout)) return true
    yield* Effect.logWarning("embedded postgres did not stop in time; sending SIGQUIT").pipe(
      Effect.annotateLogs({ pid, timeout: Duration.format(timeout) })
    )
    signal(pid, "SIGQUIT")
    return yield* pollUntil(gone, Duration.seconds(5))
  })

/**
 * Asks the OS for a free TCP port on the loopback interface. Another process could take it before
 * PostgreSQL binds it; that start then fails loudly, which is acceptable for a development server.
 */
export const freePort: Effect.Effect<number, Error> = Effect.async<number, Error>((resume) => {
  const server = Net.createServer()
  server.unref()
  server.once("error", (error) => resume(Effect.fail(error)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(port > 0 ? Effect.succeed(port) : Effect.fail(new Error("no port assigned"))))
  })
})
