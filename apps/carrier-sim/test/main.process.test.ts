/** The standalone simulator as a real process: SIGTERM must not wait for open long polls. */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"

const appDir = Path.resolve(import.meta.dirname, "..")

const spawnSim = () =>
  new Promise<{ child: ChildProcess.ChildProcess; url: string; output: () => string; exited: Promise<number | null> }>(
    (resolve, reject) => {
      const child = ChildProcess.spawn(process.execPath, [
        "--import",
        "tsx",
        "--conditions=@shop/source",
        "src/main.ts"
      ], {
        cwd: appDir,
        env: { ...process.env, CARRIER_SIM_PORT: "0", CARRIER_SIM_HOST: "127.0.0.1" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
      child.stdout.on("data", (chunk) => {
        output += chunk
        const match = /listening on (http:\/\/\S+)/.exec(output)
        if (match) resolve({ child, url: match[1], output: () => output, exited })
      })
      child.stderr.on("data", (chunk) => (output += chunk))
      child.once("error", reject)
      exited.then((code) => reject(new Error(`exited early (${code}): ${output}`)))
    }
  )

const waitingPolls = async (url: string) =>
  ((await (await fetch(`${url}/v1/stats`)).json()) as { polls: { waiting: number } }).polls.waiting

describe("carrier-sim process", () => {
  it("SIGTERM answers an open 30 s long poll at once and exits 0", async () => {
    const { child, exited, output, url } = await spawnSim()
    const longPoll = fetch(`${url}/v1/events?after=0&wait=30`).then(async (r) => ({
      status: r.status,
      body: await r.json()
    }))
    while ((await waitingPolls(url)) !== 1) await new Promise((r) => setTimeout(r, 5))

    const started = performance.now()
    child.kill("SIGTERM")
    expect(await longPoll).toEqual({ status: 200, body: { events: [], cursor: 0 } })
    expect(await exited).toBe(0)
    expect(performance.now() - started).toBeLessThan(3_000)
    expect(output()).toMatch(/shutdown complete in \d+ ms/)
  })
})
