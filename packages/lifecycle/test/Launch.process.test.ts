import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"

const packageDir = Path.resolve(import.meta.dirname, "..")

/** Starts the fixture as a real Node process (no wrapper in between) and resolves once it is READY. */
const spawnChild = (finalizerMs: number) =>
  new Promise<{ child: ChildProcess.ChildProcess; output: () => string; exited: Promise<number | null> }>(
    (resolve, reject) => {
      const child = ChildProcess.spawn(
        process.execPath,
        ["--import", "tsx", "--conditions=@shop/source", "test/fixtures/launch-child.ts", String(finalizerMs)],
        { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] }
      )
      let output = ""
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
      child.stdout.on("data", (chunk) => {
        output += chunk
        if (output.includes("READY")) resolve({ child, output: () => output, exited })
      })
      child.stderr.on("data", (chunk) => (output += chunk))
      child.once("error", reject)
      exited.then((code) => reject(new Error(`exited early (${code}): ${output}`)))
    }
  )

describe("Launch in a real process", () => {
  it("SIGTERM: graceful shutdown, phases logged, exit 0", async () => {
    const { child, exited, output } = await spawnChild(200)
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    const log = output()
    expect(log).toMatch(/shutdown: SIGTERM received, deadline 10s/)
    expect(log).toMatch(/shutdown: flush buffers done in \d+ ms/)
    expect(log).toMatch(/shutdown complete in \d+ ms \(draining \d+ ms, stopping \d+ ms\), exit 0/)
  })

  it("a second SIGTERM during a slow shutdown exits at once with 143, saying so", async () => {
    const { child, exited, output } = await spawnChild(60_000)
    child.kill("SIGTERM")
    await new Promise<void>((resolve) => {
      const check = () => output().includes("shutdown: stopping") ? resolve() : setTimeout(check, 10)
      check()
    })
    child.kill("SIGTERM")
    expect(await exited).toBe(143)
    expect(output()).toMatch(
      /second signal \(SIGTERM\), exiting at once after \d+ ms; abandoned: flush buffers \(flushing\)/
    )
  })
})
