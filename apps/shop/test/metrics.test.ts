/**
 * `/metrics` as Prometheus reads it: the API (request metrics) or the whole shop (what every part
 * reports) scraped and parsed with a Prometheus text parser. Metrics live in one registry per process (this file's), so counts are compared with a
 * scrape taken before the requests.
 */
import { assert, describe, it } from "@effect/vitest"
import { Order } from "@shop/domain/Order"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { anOrder, call, eventually, idOf } from "./fixtures.js"
import { api, ApiClient } from "./layers.js"
import { startShop } from "./support.js"

interface Series {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

interface Scrape {
  readonly families: ReadonlyArray<{ readonly name: string; readonly help: string; readonly type: string }>
  readonly series: ReadonlyArray<Series>
}

/**
 * Samples are read by `parse-prometheus-text-format` (its sample parser is the official Python
 * client's, ported). Its grouping of histogram samples cannot take a histogram with labels (it throws),
 * so histograms are read as the `_bucket`, `_count` and `_sum` series they are written as: their
 * TYPE lines are taken out before parsing, and every family's HELP and TYPE are read from the text.
 */
const parse = (text: string): Scrape => {
  const lines = text.split("\n")
  const families = lines.flatMap((line) => {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (typed === null) return []
    const help = lines.find((l) => l.startsWith(`# HELP ${typed[1]} `))?.slice(`# HELP ${typed[1]} `.length) ?? ""
    return [{ name: typed[1], type: typed[2].toUpperCase(), help }]
  })
  const flat = lines.filter((line) => !/^# TYPE \S+ histogram$/.test(line)).join("\n")
  const series = parsePrometheusTextFormat(flat).flatMap((family) =>
    family.metrics.map((metric) => ({
      name: family.name,
      labels: metric.labels ?? {},
      value: Number(metric.value)
    }))
  )
  return { families, series }
}

const scrape = (baseUrl: string) =>
  Effect.map(call(baseUrl, "GET", "/metrics"), (response) => parse(String(response.body)))

const matches = (labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>) =>
  Object.entries(wanted).every(([key, value]) => labels[key] === value)
const find = (scraped: Scrape, name: string, labels: Readonly<Record<string, string>> = {}) =>
  scraped.series.filter((s) => s.name === name && matches(s.labels, labels))
const value = (scraped: Scrape, name: string, labels: Readonly<Record<string, string>> = {}) =>
  find(scraped, name, labels).reduce((sum, s) => sum + s.value, 0)

const bound = (le: string) => le === "+Inf" ? Infinity : Number(le)

const request = "http_server_request_duration_seconds"
const routes = [
  "/v1/users",
  "/v1/orders",
  "/v1/orders/:id",
  "/v1/orders/:id/pay",
  "/v1/orders/:id/cancel",
  "/v1/orders/:id/retry-booking",
  "/healthz",
  "/readyz",
  "/metrics",
  "/openapi.json",
  "/docs"
]

describe("/metrics", () => {
  it.scopedLive("request durations: a histogram by method, route template and status, with cumulative buckets", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* ApiClient
      const created = { "http.request.method": "POST", "http.route": "/v1/orders", "http.response.status_code": "201" }
      const labels = Object.fromEntries(Object.entries(created).map(([k, v]) => [k.replace(/\./g, "_"), v]))
      const before = yield* scrape(baseUrl)

      const order = yield* call(baseUrl, "POST", "/v1/orders", anOrder())
      assert.strictEqual(order.status, 201)
      yield* call(baseUrl, "GET", `/v1/orders/${idOf(order)}`)
      const after = yield* scrape(baseUrl)

      const family = after.families.find((f) => f.name === request)
      assert.strictEqual(family?.type, "HISTOGRAM")
      assert.isNotEmpty(family?.help)
      assert.strictEqual(value(after, `${request}_count`, labels) - value(before, `${request}_count`, labels), 1)
      assert.isAbove(value(after, `${request}_sum`, labels), value(before, `${request}_sum`, labels))
      const buckets = find(after, `${request}_bucket`, labels)
      assert.isAtLeast(buckets.length, 10)
      assert.strictEqual(buckets.at(-1)?.labels.le, "+Inf")
      assert.strictEqual(buckets.at(-1)?.value, value(after, `${request}_count`, labels))
      for (let i = 1; i < buckets.length; i++) {
        assert.isAtLeast(buckets[i].value, buckets[i - 1].value, "buckets are cumulative")
        assert.isAbove(bound(buckets[i].labels.le), bound(buckets[i - 1].labels.le))
      }
      assert.strictEqual(
        value(after, `${request}_count`, { http_route: "/v1/orders/:id", http_response_status_code: "200" }) -
          value(before, `${request}_count`, { http_route: "/v1/orders/:id", http_response_status_code: "200" }),
        1
      )
      assert.strictEqual(value(after, "shop_orders_created_total") - value(before, "shop_orders_created_total"), 1)
    }).pipe(Effect.provide(api())))

  it.scopedLive("HTTP_SERVER=standard records the same histogram, with the same route templates", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* ApiClient
      const labels = { http_request_method: "GET", http_route: "/v1/orders/:id", http_response_status_code: "404" }
      const before = value(yield* scrape(baseUrl), `${request}_count`, labels)
      assert.strictEqual((yield* call(baseUrl, "GET", "/v1/orders/999999")).status, 404)
      const after = yield* scrape(baseUrl)
      assert.strictEqual(value(after, `${request}_count`, labels) - before, 1)
    }).pipe(Effect.provide(api({ HTTP_SERVER: "standard" }))))

  it.scopedLive("the lifecycle components report: phase, HTTP, pools, workers, background tasks", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* startShop()
      yield* call(baseUrl, "POST", "/v1/users", { email: "metrics@example.com", name: "M", password: "correct horse" })
      const scraped = yield* scrape(baseUrl)
      assert.strictEqual(value(scraped, "lifecycle_phase", { phase: "running" }), 1)
      assert.strictEqual(value(scraped, "lifecycle_phase", { phase: "draining" }), 0)
      assert.isAtLeast(value(scraped, "http_server_active_requests"), 1, "the scrape itself is in flight")
      assert.isAtLeast(value(scraped, "lifecycle_http_open_connections"), 1)
      assert.lengthOf(find(scraped, "lifecycle_pool_queue_depth", { pool: "carrier" }), 1)
      assert.lengthOf(find(scraped, "lifecycle_pool_active_jobs", { pool: "carrier" }), 1)
      assert.isAtLeast(
        value(scraped, "lifecycle_worker_tick_duration_seconds_count", { worker: "fulfillment", outcome: "ok" }),
        1
      )
      assert.lengthOf(find(scraped, "lifecycle_background_tasks_active"), 1)
      assert.lengthOf(find(scraped, "shop_outbox_lag_seconds"), 1)
      for (const family of scraped.families) assert.isNotEmpty(family.type, family.name)
    }))

  it.scopedLive("hostile URLs and methods do not add label values: routes stay templates, methods a fixed set", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* ApiClient
      const hostile = Array.from({ length: 40 }, (_, i) => [
        `/v1/orders/${i}x${Math.random().toString(36).slice(2)}`,
        `/probe-${i}-${Math.random().toString(36).slice(2)}`,
        `/v1/orders/${i}?q=${"%27".repeat(i)}`,
        `/v1/orders/${1_000_000 + i}/pay`,
        `/%2e%2e/${i}`
      ]).flat()
      for (const path of hostile) yield* call(baseUrl, "GET", path)
      for (const method of ["FOO", "PROPFIND", "BREW"]) yield* call(baseUrl, method, "/v1/orders")
      const scraped = yield* scrape(baseUrl)

      const series = find(scraped, `${request}_count`)
      const seen = (label: string) => new Set(series.map((s) => s.labels[label]).filter((v) => v !== undefined))
      for (const route of seen("http_route")) assert.include(routes, route)
      for (const method of seen("http_request_method")) {
        assert.include(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "_OTHER"], method)
      }
      assert.include([...seen("http_request_method")], "_OTHER")
      assert.isBelow(series.length, 30, "a series per (method, route, status), not per URL")
      const text = JSON.stringify(scraped.series.map((s) => s.labels))
      for (const path of hostile) assert.notInclude(text, path.split("?")[0].slice(1))
    }).pipe(Effect.provide(api())))

  it.scopedLive("every metric the Grafana dashboard queries is exposed once the shop did that work", () =>
    Effect.gen(function*() {
      const dashboard = JSON.parse(
        Fs.readFileSync(new URL("../observability/grafana-dashboard.json", import.meta.url), "utf8")
      )
      const queried = new Set<string>(
        dashboard.panels.flatMap((panel: any) => panel.targets ?? []).flatMap((target: any) =>
          Array.from((target.expr as string).matchAll(/\b([a-z][a-z0-9_]*)\{/g), (m) => m[1])
        )
      )
      assert.isAbove(queried.size, 10)

      // one shop takes an order from pay to delivered (bookings, tracking, e-mails) and shuts down
      const first = yield* Scope.make()
      const { baseUrl } = yield* startShop({ FULFILLMENT_INTERVAL: "50 millis" }).pipe(Scope.extend(first))
      const order = yield* call(baseUrl, "POST", "/v1/orders", anOrder())
      yield* call(baseUrl, "POST", `/v1/orders/${idOf(order)}/pay`)
      yield* eventually(
        Effect.map(
          call(baseUrl, "GET", `/v1/orders/${idOf(order)}`),
          (r) => Schema.decodeUnknownSync(Order)(r.body).status
        ),
        (status) => status === "delivered",
        "the order delivered",
        { bound: 500 }
      )
      yield* Scope.close(first, Exit.void)

      const { baseUrl: second } = yield* startShop()
      const exposed = new Set((yield* scrape(second)).series.map((s) => s.name))
      for (const name of queried) assert.isTrue(exposed.has(name), `${name} is on /metrics`)
    }))
})
