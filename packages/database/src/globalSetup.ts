/**
 * Vitest `globalSetup`: one PostgreSQL server for the whole test run, handed to test files as
 * `inject("databaseUrl")` (an admin URL; `TestDatabase.layer` creates a database per test file on it).
 *
 * `DATABASE_URL`, when set, is used as is. Otherwise an embedded server starts in a fresh temporary
 * directory (never `.data/`) and is stopped and deleted in teardown. Vitest runs every project's
 * global setup in one process, so all packages that list this file share a single server.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { TestProject } from "vitest/node"
import * as EmbeddedPostgres from "./EmbeddedPostgres.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the test server; create databases on it, do not use it directly. */
    databaseUrl: string
  }
}

interface Shared {
  users: number
  readonly url: Promise<string>
  readonly stop: () => Promise<void>
}

// globalThis, not module state: vitest loads this file once per project that lists it
const key = Symbol.for("@shop/database/globalSetup")
const registry = globalThis as { [key]?: Shared }

const startEmbedded = (): Shared => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "shop-test-pg-"))
  const scope = Effect.runSync(Scope.make())
  const stop = () =>
    Effect.runPromise(Scope.close(scope, Exit.void)).finally(() => Fs.rmSync(dir, { recursive: true, force: true }))
  const url = Effect.runPromise(
    EmbeddedPostgres.make({ dataDir: dir }).pipe(Scope.extend(scope), Effect.map((_) => Redacted.value(_.url)))
  ).catch(async (error) => {
    await stop()
    throw error
  })
  return { users: 0, url, stop }
}

/**
 * @since 0.1.0
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // test infrastructure, not the service: reading the environment directly is fine here
  const fromEnv = process.env.DATABASE_URL?.trim()
  const shared = registry[key] ??= fromEnv
    ? { users: 0, url: Promise.resolve(fromEnv), stop: () => Promise.resolve() }
    : startEmbedded()
  shared.users++
  const teardown = async () => {
    if (--shared.users > 0) return
    delete registry[key]
    await shared.stop()
  }
  try {
    project.provide("databaseUrl", await shared.url)
  } catch (error) {
    await teardown()
    throw error
  }
  return teardown
}
