/**
 * The real-process tests run `node apps/shop/dist/main.js`, exactly what production runs. Build it
 * (incrementally) and bundle it once per test run so they never test a stale build.
 */
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"

export default function setup() {
  const root = Path.resolve(import.meta.dirname, "../../..")
  ChildProcess.execFileSync(process.execPath, [
    Path.join(root, "node_modules/typescript/bin/tsc"),
    "-b",
    "tsconfig.build.json"
  ], {
    cwd: root,
    stdio: "inherit"
  })
  ChildProcess.execFileSync(process.execPath, [Path.join(root, "apps/shop/scripts/bundle.mjs")], {
    cwd: root,
    stdio: "inherit"
  })
}
