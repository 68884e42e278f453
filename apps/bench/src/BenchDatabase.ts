/**
 * A fresh database for one bench run, and the shop environment that points at it:
 *
 * - `DATABASE_URL` given: a database `bench_<random>` on that server, dropped (`WITH (FORCE)`) at the end;
 * - otherwise: the shop's own embedded PostgreSQL in a temporary `EMBEDDED_PG_DIR` on a port we choose,
 *   so that we (and the fulfillment shops started later) can reach it while the first shop runs.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { BenchError } from "./BenchError.js"
import { freePort } from "./ShopProcess.js"

export interface Target {
  readonly kind: "external" | "embedded"
  /** For the report: which server and database. */
  readonly description: string
  /** Environment of the first shop (the one that creates the schema and, embedded, owns the server). */
  readonly firstShopEnv: Readonly<Record<string, string>>
  /** The shop's database; reachable once the first shop is ready. Later shops get it as `DATABASE_URL`. */
  readonly url: Redacted.Redacted
}

/** A client with a small pool; closed when the scope closes. */
export const connect = (
  url: Redacted.Redacted,
  maxConnections = 2
): Effect.Effect<PgClient.PgClient, BenchError, Scope.Scope> =>
  Layer.build(PgClient.layer({ url, maxConnections, connectTimeout: Duration.seconds(5) })).pipe(
    Effect.map(Context.get(PgClient.PgClient)),
    Effect.mapError((cause) => new BenchError({ message: `cannot connect to PostgreSQL: ${cause.message}`, cause }))
  )

const urlFor = (url: Redacted.Redacted, database: string) => {
  const parsed = new URL(Redacted.value(url))
  parsed.pathname = `/${encodeURIComponent(database)}`
  return Redacted.make(parsed.toString())
}

/** The server part of a URL, without credentials, for printing. */
export const hostOf = (url: Redacted.Redacted) => {
  const parsed = new URL(Redacted.value(url))
  return `${parsed.hostname}:${parsed.port || "5432"}`
}

/** A temporary directory, deleted with the scope. */
export { tempDir } from "@shop/process-harness/TempDir"

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * A server the shop left behind (it was SIGKILLed, or the bench was interrupted mid-start) would keep
 * the directory busy: stop it (fast shutdown, then immediate) before the directory is removed.
 */
const stopLeftoverServer = (dataDir: string) =>
  Effect.gen(function*() {
    const pid = Effect.try(() => Number.parseInt(Fs.readFileSync(Path.join(dataDir, "postmaster.pid"), "utf8"), 10))
    const found = yield* Effect.option(pid)
    if (Option.isNone(found) || !Number.isInteger(found.value) || !alive(found.value)) return
    yield* Effect.logWarning(`stopping leftover embedded postgres (pid ${found.value})`)
    for (const signal of ["SIGINT", "SIGQUIT", "SIGKILL"] as const) {
      yield* Effect.try(() => process.kill(found.value, signal)).pipe(Effect.ignore)
      for (let i = 0; i < 50 && alive(found.value); i++) yield* Effect.sleep(Duration.millis(100))
      if (!alive(found.value)) return
    }
  })

const external = (adminUrl: Redacted.Redacted) =>
  Effect.gen(function*() {
    const admin = yield* connect(adminUrl, 1)
    const [{ version }] = yield* admin<{ version: string }>`SELECT current_setting('server_version') AS version`
    const name = `bench_${Crypto.randomBytes(6).toString("hex")}`
    yield* Effect.acquireRelease(
      admin`CREATE DATABASE ${admin(name)}`,
      () =>
        admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`.pipe(
          Effect.tap(() => Effect.sync(() => console.log(`dropped database ${name}`))),
          Effect.catchAllCause((cause) => Effect.logWarning(`could not drop database ${name}`, cause))
        )
    )
    const url = urlFor(adminUrl, name)
    const target: Target = {
      kind: "external",
      description: `external PostgreSQL ${version.split(" ")[0]}, database ${name} on ${hostOf(adminUrl)}`,
      firstShopEnv: { DATABASE_URL: Redacted.value(url) },
      url
    }
    return target
  }).pipe(Effect.mapError((cause) =>
    cause instanceof BenchError ? cause : new BenchError({ message: `database setup failed: ${cause.message}`, cause })
  ))

const embedded = Effect.gen(function*() {
  // its own directory: as root, initdb chowns it to the `postgres` OS user
  const dataDir = yield* Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "shop-bench-pg-"))),
    (dir) =>
      stopLeftoverServer(dir).pipe(Effect.ensuring(Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))))
  )
  const port = yield* freePort
  const target: Target = {
    kind: "embedded",
    description: `embedded PostgreSQL (started by the shop) in ${dataDir}, port ${port}`,
    firstShopEnv: {
      // empty means unset to the shop: it starts the embedded server
      DATABASE_URL: "",
      EMBEDDED_PG_DIR: dataDir,
      EMBEDDED_PG_PORT: String(port),
      EMBEDDED_PG_USER: "postgres",
      EMBEDDED_PG_PASSWORD: "postgres"
    },
    url: Redacted.make(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`)
  }
  return target
})

/**
 * `external(url)` when `DATABASE_URL` is set and that works; otherwise (with a warning when it was set
 * but failed) `embedded`.
 */
export const externalOrEmbedded = <A>(
  databaseUrl: Option.Option<Redacted.Redacted>,
  external: (url: Redacted.Redacted) => Effect.Effect<A, BenchError, Scope.Scope>,
  embedded: Effect.Effect<A, BenchError, Scope.Scope>
): Effect.Effect<A, BenchError, Scope.Scope> =>
  Option.match(databaseUrl, {
    onNone: () => embedded,
    onSome: (url) =>
      external(url).pipe(
        Effect.catchAll((error) =>
          Effect.zipRight(
            Effect.sync(() =>
              console.warn(`DATABASE_URL is set but unusable (${error.message}); using an embedded server instead`)
            ),
            embedded
          )
        )
      )
  })

/** The external server when `DATABASE_URL` is set and answers; otherwise the shop's embedded one. */
export const acquire = (
  databaseUrl: Option.Option<Redacted.Redacted>
): Effect.Effect<Target, BenchError, Scope.Scope> => externalOrEmbedded(databaseUrl, external, embedded)
