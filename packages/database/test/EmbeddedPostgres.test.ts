import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Readline from "node:readline"
import * as EmbeddedPostgres from "../src/EmbeddedPostgres.js"
import { isPostmasterAlive, pidFilePath } from "../src/internal/postmaster.js"
import { selectOne, tempDir } from "./support.js"

describe("EmbeddedPostgres", () => {
  it.scopedLive("starts on a free port, answers SELECT 1 and stops with its scope", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir
      const server = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.make({ dataDir })
        assert.isFalse(server.adopted)
        assert.deepStrictEqual(yield* selectOne(server.url), [{ one: 1 }])
        return server
      }))
      assert.isFalse(isPostmasterAlive(server.pid))
      assert.isFalse(Fs.existsSync(pidFilePath(dataDir)))
    }))

  it.scopedLive("keeps its data between runs and removes a stale postmaster.pid", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir
      const first = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.make({ dataDir })
        yield* selectOne(server.url).pipe(Effect.zipRight(Effect.void))
        return server
      }))
      // what a crash of PostgreSQL itself leaves behind: a lock file naming a process that is gone
      const dead = ChildProcess.spawnSync("true").pid
      assert.isFalse(isPostmasterAlive(dead))
      Fs.writeFileSync(
        pidFilePath(dataDir),
        `${dead}\n${dataDir}\n1700000000\n${first.port}\n\n127.0.0.1\n  1  2\nready   \n`
      )
      const second = yield* EmbeddedPostgres.make({ dataDir })
      assert.isFalse(second.adopted)
      assert.notStrictEqual(second.pid, dead)
      assert.deepStrictEqual(yield* selectOne(second.url), [{ one: 1 }])
      assert.strictEqual(Fs.readFileSync(pidFilePath(dataDir), "utf8").split("\n")[0], String(second.pid))
    }))

  it.scopedLive("reuses the server already running on its data directory", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir
      const firstScope = yield* Scope.make()
      const first = yield* EmbeddedPostgres.make({ dataDir }).pipe(Scope.extend(firstScope))
      const secondScope = yield* Scope.make()
      const second = yield* EmbeddedPostgres.make({ dataDir }).pipe(Scope.extend(secondScope))
      assert.isTrue(second.adopted)
      assert.strictEqual(second.pid, first.pid)
      assert.strictEqual(second.port, first.port)
      assert.deepStrictEqual(yield* selectOne(second.url), [{ one: 1 }])
      // the adopter stops it like a server of its own; the original owner then finds it gone
      yield* Scope.close(secondScope, Exit.void)
      assert.isFalse(isPostmasterAlive(first.pid))
      yield* Scope.close(firstScope, Exit.void)
    }))

  it.scopedLive(
    "after its owner is SIGKILLed, the next start adopts the orphaned server",
    () =>
      Effect.gen(function*() {
        const dataDir = yield* tempDir
        const owner = ChildProcess.spawn(
          process.execPath,
          ["--import", "tsx", Path.join(import.meta.dirname, "fixtures", "start-embedded.ts"), dataDir],
          { cwd: Path.join(import.meta.dirname, ".."), stdio: ["ignore", "pipe", "inherit"] }
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => owner.kill("SIGKILL")))
        const orphan = yield* Effect.promise(async () => {
          for await (const line of Readline.createInterface({ input: owner.stdout! })) {
            if (line.startsWith("{")) return JSON.parse(line) as { pid: number; port: number }
          }
          throw new Error("the owner exited without starting PostgreSQL")
        }).pipe(Effect.timeout("45 seconds"))
        const ownerExited = new Promise((resolve) => owner.once("exit", resolve))
        owner.kill("SIGKILL")
        yield* Effect.promise(() => ownerExited)
        assert.isTrue(isPostmasterAlive(orphan.pid), "PostgreSQL outlives its SIGKILLed parent")

        const server = yield* Effect.scoped(Effect.gen(function*() {
          const server = yield* EmbeddedPostgres.make({ dataDir })
          assert.isTrue(server.adopted)
          assert.strictEqual(server.pid, orphan.pid)
          assert.strictEqual(server.port, orphan.port)
          assert.deepStrictEqual(yield* selectOne(server.url), [{ one: 1 }])
          return server
        }))
        assert.isFalse(isPostmasterAlive(server.pid), "the orphan is stopped with the adopter's scope")
      }),
    60_000
  )

  it.scopedLive("refuses a non-empty directory that is not a PostgreSQL data directory", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir
      Fs.writeFileSync(Path.join(dataDir, "notes.txt"), "not a database")
      const error = yield* Effect.flip(EmbeddedPostgres.make({ dataDir }))
      assert.strictEqual(error._tag, "EmbeddedPostgresError")
      assert.include(error.message, "not a PostgreSQL data directory")
    }))
})
