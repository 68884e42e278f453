import { assert, describe, it } from "@effect/vitest"
import { CreateOrder } from "@shop/domain/Order"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as BenchOptions from "../src/BenchOptions.js"
import * as CarrierRun from "../src/CarrierRun.js"
import * as CpuUsage from "../src/CpuUsage.js"
import * as HttpLoad from "../src/HttpLoad.js"
import * as Report from "../src/Report.js"
import * as ShopMetrics from "../src/ShopMetrics.js"

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

  it.effect("carrier options: defaults, flags, and --phases picks the phases", () =>
    Effect.gen(function*() {
      const defaults = yield* Effect.withConfigProvider(BenchOptions.config, BenchOptions.parseFlags([]).provider)
      assert.deepStrictEqual([...defaults.phases], ["http", "fulfillment", "carrier"])
      assert.isTrue(Duration.equals(defaults.carrierLatency, Duration.millis(200)))
      assert.strictEqual(defaults.carrierConcurrency, 32)
      assert.strictEqual(defaults.carrierOrders, 3000)
      assert.isTrue(Duration.equals(defaults.carrierShutdownLatency, Duration.seconds(1)))

      const { provider } = BenchOptions.parseFlags([
        "--phases",
        "carrier",
        "--carrier-latency",
        "500 millis",
        "--carrier-concurrency",
        "8",
        "--carrier-orders",
        "100"
      ])
      const options = yield* Effect.withConfigProvider(BenchOptions.config, provider)
      assert.deepStrictEqual([...options.phases], ["carrier"])
      assert.isTrue(Duration.equals(options.carrierLatency, Duration.millis(500)))
      assert.strictEqual(options.carrierConcurrency, 8)
      assert.strictEqual(options.carrierOrders, 100)

      const bad = BenchOptions.parseFlags(["--phases", "http,carier"]).provider
      assert.isTrue(Exit.isFailure(yield* Effect.exit(Effect.withConfigProvider(BenchOptions.config, bad))))
    }))

  it("carrier run: metrics, the shop's JSON log lines and the tagged database URL are read", () => {
    const text = [
      "# HELP lifecycle_pool_active_jobs Jobs a worker pool is processing",
      "lifecycle_pool_active_jobs{pool=\"carrier\"} 32",
      "lifecycle_pool_active_jobs{pool=\"tracking\"} 1",
      "lifecycle_pool_active_jobs_total 7",
      "shop_carrier_bookings_total{outcome=\"shipped\"} 30",
      "shop_carrier_bookings_total{outcome=\"released\"} 2"
    ].join("\n")
    assert.strictEqual(ShopMetrics.metric(text, "lifecycle_pool_active_jobs", { pool: "carrier" }), 32)
    assert.strictEqual(ShopMetrics.metric(text, "lifecycle_pool_active_jobs"), 33)
    assert.strictEqual(ShopMetrics.metric(text, "shop_carrier_bookings_total"), 32)
    assert.deepStrictEqual(CarrierRun.bookingOutcomes(text), { shipped: 30, released: 2 })

    const line = CarrierRun.parseLogLine(
      JSON.stringify({ message: ["shutdown:", "complete"], logLevel: "INFO", timestamp: "2026-11-22T06:00:00.123Z" })
    )
    assert.deepStrictEqual(Option.getOrThrow(line), {
      at: Date.parse("2026-11-22T06:00:00.123Z"),
      level: "INFO",
      message: "shutdown: complete",
      cause: undefined
    })
    assert.isTrue(Option.isNone(CarrierRun.parseLogLine("[06:00:00.123] INFO (#1): not JSON")))

    const url = new URL(CarrierRun.withApplicationName(Redacted.make("postgres://u:p@127.0.0.1:5432/db"), "bench-x"))
    assert.strictEqual(url.searchParams.get("application_name"), "bench-x")
    assert.strictEqual(url.pathname, "/db")
  })

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
