import { assert, describe, it } from "@effect/vitest"
import { CreateOrder } from "@shop/domain/Order"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as BenchOptions from "../src/BenchOptions.js"
import * as CpuUsage from "../src/CpuUsage.js"
import * as HttpLoad from "../src/HttpLoad.js"
import * as Report from "../src/Report.js"

describe("bench", () => {
  it("POST bodies are valid CreateOrder payloads with 1–3 lines", () => {
    const decode = Schema.decodeUnknownSync(CreateOrder)
    const lines = new Set<number>()
    for (let n = 0; n < 50; n++) lines.add(decode(JSON.parse(HttpLoad.orderBody(n))).items.length)
    assert.deepStrictEqual([...lines].sort(), [1, 2, 3])
  })

  it("GET requests rotate over the ids", () => {
    const request = HttpLoad.getOrders([7, 8])
    const paths = [0, 1, 2].map(() => (request.setupRequest as (r: object, c: object) => { path: string })({}, {}).path)
    assert.deepStrictEqual(paths, ["/v1/orders/7", "/v1/orders/8", "/v1/orders/7"])
  })

  it.effect("flags override defaults; bare numbers are seconds; lists are comma-separated", () =>
    Effect.gen(function*() {
      const { help, provider } = BenchOptions.parseFlags([
        "--duration",
        "5",
        "--batches",
        "100",
        "--warmup",
        "500 millis"
      ])
      const options = yield* Effect.withConfigProvider(BenchOptions.config, provider)
      assert.isFalse(help)
      assert.isTrue(Duration.equals(options.duration, Duration.seconds(5)))
      assert.isTrue(Duration.equals(options.warmup, Duration.millis(500)))
      assert.deepStrictEqual(options.batches, [100])
      assert.strictEqual(options.connections, 50)
    }))

  it.effect("an empty --database-url means the embedded server", () =>
    Effect.gen(function*() {
      const { provider } = BenchOptions.parseFlags(["--database-url", " "])
      const options = yield* Effect.withConfigProvider(BenchOptions.config, provider)
      assert.isTrue(Option.isNone(options.databaseUrl))
    }))

  it("unknown flags are refused", () => {
    assert.throws(() => BenchOptions.parseFlags(["--durration", "5"]))
  })

  it("the table escapes pipes and aligns columns", () => {
    const table = Report.markdown([{ figure: "a|b", value: "1", config: "x" }]).split("\n")
    assert.strictEqual(table.length, 3)
    assert.include(table[2], "a\\|b")
    assert.strictEqual(new Set(table.map((line) => line.length)).size, 1)
  })

  it("reads its own CPU time where /proc exists", () => {
    const cpu = CpuUsage.cpuSeconds(process.pid)
    if (process.platform === "linux") assert.isTrue(Option.isSome(cpu))
  })
})
