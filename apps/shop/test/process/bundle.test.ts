/**
 * What the built shop (`apps/shop/dist/main.js`, bundled by the global setup) loads at start-up.
 * Every MB live on the heap after start-up costs about four of peak RSS under load (V8 sizes the
 * old generation from it; apps/shop/README.md, "Memory"), so what only some processes use is in
 * chunks loaded on first use: Swagger UI (first `GET /docs`), the OpenTelemetry Prometheus exporter
 * (first `/metrics` scrape), nodemailer (only with `SMTP_URL`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { mainJs } from "./harness.js"

/** Relative specifiers of a minified ES module's static imports (`import{…}from"./x.js"`, `import"./x.js"`). */
const staticImports = (source: string): Array<string> =>
  Array.from(source.matchAll(/\bimport\s*(?:[\w$*{][^"'();]*?from\s*)?"(\.\.?\/[^"]+)"/g), (match) => match[1])

/** Relative specifiers of `import("./x.js")`. */
const dynamicImports = (source: string): Array<string> =>
  Array.from(source.matchAll(/\bimport\("(\.\.?\/[^"]+)"\)/g), (match) => match[1])

/** Every file reached from `entry` by `follow`, with its source. */
const reachable = (entry: string, follow: (source: string) => Array<string>) => {
  const files = new Map<string, string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    const source = Fs.readFileSync(file, "utf8")
    files.set(file, source)
    for (const specifier of follow(source)) visit(Path.resolve(Path.dirname(file), specifier))
  }
  visit(entry)
  return files
}

const packages = {
  nodemailer: "nodemailer.com/",
  "the Prometheus exporter": "/@opentelemetry+exporter-prometheus@",
  "Swagger UI": "SwaggerUIBundle"
}

describe("the bundle", () => {
  it("loads Swagger UI, the Prometheus exporter and nodemailer on first use, not at start-up", () => {
    const atStart = reachable(mainJs, staticImports)
    // a sanity check of the import parser: start-up reaches Effect and pg through the shared chunks
    assert.isAbove(atStart.size, 2)
    assert.isTrue([...atStart.values()].some((source) => source.includes("/pg-pool@")))
    const all = reachable(mainJs, (source) => [...staticImports(source), ...dynamicImports(source)])
    for (const [name, marker] of Object.entries(packages)) {
      const loadedAtStart = [...atStart].filter(([, source]) => source.includes(marker)).map(([file]) => file)
      assert.deepStrictEqual(loadedAtStart, [], `${name} is loaded at start-up`)
      assert.isTrue([...all.values()].some((source) => source.includes(marker)), `${name} is in no chunk`)
    }
  })
})
