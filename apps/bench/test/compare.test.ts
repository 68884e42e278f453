import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as CompareOptions from "../src/compare/CompareOptions.js"
import * as Machine from "../src/compare/Machine.js"
import * as Publish from "../src/compare/Publish.js"
import * as Table from "../src/compare/Table.js"
import * as Turns from "../src/compare/Turns.js"
import * as Verdict from "../src/compare/Verdict.js"
import { cpuPerRequest } from "../src/CpuUsage.js"

describe("compare", () => {
  it("ratios and verdicts: at least, at most, absolute, missing figures", () => {
    assert.strictEqual(Verdict.ratio(90, 100), 0.9)
    assert.isUndefined(Verdict.ratio(90, 0))
    assert.isUndefined(Verdict.ratio(undefined, 100))
    assert.isUndefined(Verdict.ratio(90, NaN))

    const throughput = Verdict.atLeastTimes(0.9)
    assert.strictEqual(Verdict.judge(throughput, 90, 100), "meets") // exactly on the target
    assert.strictEqual(Verdict.judge(throughput, 89.9, 100), "misses")
    assert.strictEqual(Verdict.judge(throughput, 90, undefined), "n/a")

    const latency = Verdict.atMostTimes(1.5)
    assert.strictEqual(Verdict.judge(latency, 150, 100), "meets")
    assert.strictEqual(Verdict.judge(latency, 151, 100), "misses")

    const rss = Verdict.atMost(150, "MB")
    assert.strictEqual(Verdict.judge(rss, 150), "meets")
    assert.strictEqual(Verdict.judge(rss, 150.5), "misses")
    assert.strictEqual(Verdict.judge(rss, undefined), "n/a")

    assert.strictEqual(Verdict.anyOf(["misses", "meets"]), "meets")
    assert.strictEqual(Verdict.anyOf(["misses", "n/a"]), "misses")
    assert.strictEqual(Verdict.anyOf(["n/a", "n/a"]), "n/a")

    assert.strictEqual(Verdict.describe(throughput, "Fastify"), "≥ 0.9× Fastify")
    assert.strictEqual(Verdict.describe(latency, "Fastify"), "≤ 1.5× Fastify")
    assert.strictEqual(Verdict.describe(rss, ""), "≤ 150 MB")
    assert.strictEqual(Verdict.times(0.934), "0.93×")
    assert.strictEqual(Verdict.times(0.0456), "0.046×")
    assert.strictEqual(Verdict.times(undefined), "—")
  })

  it("the median of the rounds", () => {
    assert.strictEqual(Verdict.median([3, 1, 2]), 2)
    assert.strictEqual(Verdict.median([4, 1, 3, 2]), 2.5)
    assert.strictEqual(Verdict.median([7]), 7)
    assert.isUndefined(Verdict.median([]))
  })

  it("the stacks' turns rotate: over as many rounds as stacks, each runs once in every position", () => {
    const stacks = ["shop", "Fastify", "bare"]
    const orders = [1, 2, 3].map((round) => Turns.inRound(stacks, round).map(([stack]) => stack))
    assert.deepStrictEqual(orders, [["shop", "Fastify", "bare"], ["Fastify", "bare", "shop"], [
      "bare",
      "shop",
      "Fastify"
    ]])
    // the column each result goes to is the stack's own, whatever its turn
    for (const round of [1, 2, 3, 4]) {
      for (const [stack, column] of Turns.inRound(stacks, round)) assert.strictEqual(stacks[column], stack)
    }
    assert.deepStrictEqual(Turns.inRound(stacks, 4).map(([stack]) => stack), orders[0])
  })

  it("server CPU per request: the CPU seconds between two readings over the requests, in µs; NaN without a reading", () => {
    assert.strictEqual(cpuPerRequest(Option.some(10), Option.some(12.5), 10_000), 250)
    assert.isNaN(cpuPerRequest(Option.none(), Option.some(12.5), 10_000))
    assert.isNaN(cpuPerRequest(Option.some(10), Option.none(), 10_000))
    // no request answered: the whole time, not a division by zero
    assert.strictEqual(cpuPerRequest(Option.some(1), Option.some(1.5), 0), 500_000)
  })

  it("table lines: against a peer, against a bound, failed; rendered with the six columns", () => {
    const vsFastify = Table.versus({
      figure: "GET req/s",
      ours: 800,
      peer: 1000,
      peerName: "Fastify",
      format: (n) => `${n} req/s`,
      goal: Verdict.atLeastTimes(0.9)
    })
    assert.deepStrictEqual(vsFastify, {
      figure: "GET req/s",
      ours: "800 req/s",
      peer: "Fastify 1000 req/s",
      ratio: "0.80×",
      target: "≥ 0.9× Fastify",
      verdict: "misses"
    })
    const context = Table.versus({
      ...vsFastify,
      ours: 800,
      peer: 1000,
      peerName: "bare",
      format: String,
      goal: undefined
    })
    assert.deepStrictEqual([context.target, context.verdict], ["—", "—"])
    const rss = Table.bounded({
      figure: "peak RSS",
      ours: 120,
      context: "Fastify 90 MB",
      format: (n) => `${n} MB`,
      goal: Verdict.atMost(150, "MB")
    })
    assert.deepStrictEqual([rss.ours, rss.peer, rss.ratio, rss.target, rss.verdict], [
      "120 MB",
      "Fastify 90 MB",
      "—",
      "≤ 150 MB",
      "meets"
    ])
    const broken = Table.failed("HTTP", "shop exited\nlast output: …")
    assert.strictEqual(broken.ours, "FAILED: shop exited")
    assert.strictEqual(broken.verdict, "n/a")

    const lines = Table.render([vsFastify, rss, { ...broken, figure: "a|b" }]).split("\n")
    assert.strictEqual(lines[0].replace(/ +/g, " "), "| figure | ours | peer | ratio | target | verdict |")
    assert.strictEqual(lines.length, 5)
    assert.include(lines[4], "a\\|b")
    assert.strictEqual(new Set(lines.map((line) => line.length)).size, 1)
  })

  describe("README block", () => {
    const readme = [
      "# Shop",
      "",
      "## Performance",
      "",
      "Figures.",
      "",
      "### Older figures",
      "",
      "Old.",
      "",
      "## Reliability",
      "",
      "Drills.",
      ""
    ].join("\n")

    it("adds the subsection and the markers at the end of the Performance section", () => {
      const once = Publish.replaceBlock(readme, "| table 1 |")
      const performance = once.slice(once.indexOf("## Performance"), once.indexOf("## Reliability"))
      assert.include(performance, `${Publish.subsection}\n`)
      assert.include(performance, `${Publish.begin}\n| table 1 |\n${Publish.end}\n`)
      assert.isTrue(performance.indexOf("### Older figures") < performance.indexOf(Publish.subsection))
      assert.isTrue(once.endsWith("## Reliability\n\nDrills.\n"))
    })

    it("replaces only what is between the markers, and nothing else, on every later run", () => {
      const once = Publish.replaceBlock(readme, "| table 1 |")
      const twice = Publish.replaceBlock(once, "| table 2 |\n")
      assert.notInclude(twice, "table 1")
      assert.strictEqual(twice, once.replace("| table 1 |", "| table 2 |"))
      assert.strictEqual(twice.split(Publish.begin).length, 2)
      // hand-written text around the markers stays
      const edited = twice.replace(Publish.begin, `Written by hand.\n\n${Publish.begin}`)
      assert.include(Publish.replaceBlock(edited, "| table 3 |"), `Written by hand.\n\n${Publish.begin}\n| table 3 |`)
    })

    it("without a Performance section the subsection goes at the end; Performance may be the last section", () => {
      const none = Publish.replaceBlock("# Title\n\nText.\n", "| t |")
      assert.isTrue(none.startsWith("# Title\n\nText.\n\n### Side by side with the peers"))
      assert.isTrue(none.endsWith(`${Publish.end}\n`))
      const last = Publish.replaceBlock("# T\n\n## Performance\n\nFigures.\n", "| t |")
      assert.isTrue(last.startsWith("# T\n\n## Performance\n\nFigures.\n\n### Side by side"))
      assert.isTrue(last.endsWith(`${Publish.end}\n`))
    })

    it("COMPARE.md is the block under a title", () => {
      const file = Publish.compareFile("header\n\n| t |\n", "node apps/bench/dist/compare.js")
      assert.isTrue(file.startsWith("# Side by side with the peers\n"))
      assert.isTrue(file.endsWith("header\n\n| t |\n"))
    })
  })

  it("the header line: date in UTC, machine, Node, PostgreSQL, load at start and end", () => {
    const line = Machine.headerLine({
      startedAt: new Date("2026-11-22T08:40:12Z"),
      cores: 2,
      cpu: "AMD EPYC",
      ramBytes: 24 * 1024 ** 3,
      node: "v20.20.2",
      postgres: "PostgreSQL 15.20 (external, 127.0.0.1:5432)",
      loadAtStart: 1.234,
      loadAtEnd: 2,
      tookMs: 473_600
    })
    assert.strictEqual(
      line,
      "2026-11-22 08:40 UTC · 2 cores (AMD EPYC), 24 GB RAM · Node v20.20.2 · " +
        "PostgreSQL 15.20 (external, 127.0.0.1:5432) · load average (1 min) 1.23 at start, 2.00 at end · " +
        "whole run 7 min 54 s"
    )
  })

  it.effect("flags: defaults, --skip, --no-write; a row that does not exist is refused", () =>
    Effect.gen(function*() {
      const read = (argv: ReadonlyArray<string>) =>
        Effect.withConfigProvider(CompareOptions.config, CompareOptions.parseFlags(argv).provider)
      const defaults = yield* read([])
      assert.strictEqual(defaults.rounds, 3)
      assert.isTrue(Duration.equals(defaults.duration, Duration.seconds(8)))
      assert.isTrue(Duration.equals(defaults.warmup, Duration.seconds(3)))
      assert.strictEqual(defaults.connections, 50)
      assert.deepStrictEqual([...defaults.skip], [])
      assert.isTrue(defaults.write)

      const quick = yield* read(["--rounds", "2", "--duration", "2", "--skip", "4,5", "--no-write"])
      assert.strictEqual(quick.rounds, 2)
      assert.isTrue(Duration.equals(quick.duration, Duration.seconds(2)))
      assert.deepStrictEqual([...quick.skip], [4, 5])
      assert.isFalse(quick.write)

      assert.isTrue(Exit.isFailure(yield* Effect.exit(read(["--skip", "10"]))))
      assert.throws(() => CompareOptions.parseFlags(["--rows", "1"]))
    }))
})
