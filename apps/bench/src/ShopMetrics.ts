/**
 * The shop's `/metrics` (Prometheus text), read on a connection of its own (HttpGet).
 */
import * as Effect from "effect/Effect"
import type { BenchError } from "./BenchError.js"
import * as HttpGet from "./HttpGet.js"

/**
 * A counter or gauge from a Prometheus text body, summed over its label sets that carry every label of
 * `labels`; 0 when absent.
 */
export const metric = (text: string, name: string, labels: Readonly<Record<string, string>> = {}): number =>
  text.split("\n")
    .filter((line) =>
      line.split(/[{ ]/)[0] === name &&
      Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0)

/** The body of `GET <baseUrl>/metrics`. */
export const scrape = (baseUrl: string): Effect.Effect<string, BenchError> =>
  Effect.map(HttpGet.get(`${baseUrl}/metrics`), (response) => response.body)
