/**
 * Log capture and handshakes for tests of code that runs on other fibers.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"

/** Collects log lines (message plus pretty cause) so tests can assert what an operator would read. */
export const makeLogCapture = Effect.sync(() => {
  const lines: Array<string> = []
  const logger = Logger.make(({ cause, logLevel, message }) => {
    const parts = (Array.isArray(message) ? message : [message]).map((part) =>
      typeof part === "string" ? part : JSON.stringify(part)
    )
    const causeText = Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause)}`
    lines.push(`${logLevel.label} ${parts.join(" ")}${causeText}`)
  })
  const layer: Layer.Layer<never> = Logger.add(logger)
  const text = () => lines.join("\n")
  return { lines, layer, text }
})

/** Waits (without time passing) until `predicate` holds: a handshake with code running on other fibers. */
export const eventually = (predicate: () => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (predicate()) return
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
    }
    return yield* Effect.dieMessage(`never happened: ${what}`)
  })
