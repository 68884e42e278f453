/**
 * A temporary directory for a child's files (logs, mail, a working directory).
 */
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** Deleted with the scope, unless `keep()` says otherwise by then (e.g. to leave a failed run's logs). */
export const tempDir = (prefix: string, keep: () => boolean = () => false) =>
  Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))),
    (dir) => Effect.sync(() => keep() ? undefined : Fs.rmSync(dir, { recursive: true, force: true }))
  )
