/**
 * Prometheus text metrics. Counters are incremented where things happen; gauges are read from the
 * lifecycle components when `/metrics` is scraped, so they are never stale.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

type Labels = Readonly<Record<string, string>>

interface Family {
  readonly help: string
  readonly type: "counter" | "gauge"
  readonly values: Map<string, { labels: Labels; value: number }>
}

export interface Sample {
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge"
  readonly labels?: Labels
  readonly value: number
}

// Called on every request: label sets are tiny, so a joined string beats JSON of sorted entries.
const key = (labels: Labels) => {
  let out = ""
  for (const name of Object.keys(labels).sort()) out += `${name}\u0000${labels[name]}\u0001`
  return out
}
const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")
const formatLabels = (labels: Labels) => {
  const entries = Object.entries(labels)
  return entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`
}

export class Metrics extends Context.Tag("shop/Metrics")<Metrics, {
  readonly increment: (name: string, help: string, labels?: Labels, by?: number) => Effect.Effect<void>
  /** `increment` for callers outside Effect (the HTTP server's response hook). */
  readonly unsafeIncrement: (name: string, help: string, labels?: Labels, by?: number) => void
  /** Registers a source of gauges read at scrape time. */
  readonly addCollector: (collect: Effect.Effect<ReadonlyArray<Sample>>) => Effect.Effect<void>
  readonly render: Effect.Effect<string>
}>() {
  static readonly layer = Layer.sync(Metrics, () => {
    const families = new Map<string, Family>()
    const collectors: Array<Effect.Effect<ReadonlyArray<Sample>>> = []
    const record = (sample: Sample, mode: "add" | "set") => {
      let family = families.get(sample.name)
      if (!family) {
        family = { help: sample.help, type: sample.type, values: new Map() }
        families.set(sample.name, family)
      }
      const labels = sample.labels ?? {}
      const k = key(labels)
      const entry = family.values.get(k)
      if (entry && mode === "add") entry.value += sample.value
      else family.values.set(k, { labels, value: sample.value })
    }
    const unsafeIncrement = (name: string, help: string, labels: Labels = {}, by = 1) =>
      record({ name, help, type: "counter", labels, value: by }, "add")
    return {
      increment: (name, help, labels, by) => Effect.sync(() => unsafeIncrement(name, help, labels, by)),
      unsafeIncrement,
      addCollector: (collect) => Effect.sync(() => collectors.push(collect)),
      render: Effect.gen(function*() {
        const gauges = new Map<string, Family>()
        for (const collect of collectors) {
          for (const sample of yield* collect) {
            let family = gauges.get(sample.name)
            if (!family) {
              family = { help: sample.help, type: sample.type, values: new Map() }
              gauges.set(sample.name, family)
            }
            family.values.set(key(sample.labels ?? {}), { labels: sample.labels ?? {}, value: sample.value })
          }
        }
        const lines: Array<string> = []
        for (const [name, family] of [...families, ...gauges].sort(([a], [b]) => a.localeCompare(b))) {
          lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`)
          for (const { labels, value } of family.values.values()) lines.push(`${name}${formatLabels(labels)} ${value}`)
        }
        return lines.join("\n") + "\n"
      })
    }
  })
}
