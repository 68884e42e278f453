import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as RecordingTracer from "../src/RecordingTracer.js"
import * as Traced from "../src/Traced.js"

/** A traced method as a service writes one: the span (when there is one) is the body's current span. */
const double = Traced.fn(
  "Numbers.double",
  Effect.fnUntraced(function*(n: number) {
    const span = yield* Effect.option(Effect.currentSpan)
    return { doubled: n * 2, span: Option.map(span, (span) => span.name) }
  })
)

describe("Traced.fn", () => {
  it.effect("with the tracer on, every call runs in a span of its name", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* RecordingTracer.make
      const result = yield* double(21).pipe(Effect.withTracer(tracer))
      assert.deepStrictEqual(result, { doubled: 42, span: Option.some("Numbers.double") })
      assert.deepStrictEqual(names, ["Numbers.double"])
    }))

  it.effect("with the tracer off, no span is asked for at all, and the result is the same", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* RecordingTracer.make
      const result = yield* double(21).pipe(Effect.withTracer(tracer), Effect.withTracerEnabled(false))
      assert.deepStrictEqual(result, { doubled: 42, span: Option.none() })
      assert.deepStrictEqual(names, [])
    }))

  it.effect("failures and the pipeables of the body pass through unchanged", () =>
    Effect.gen(function*() {
      const failing = Traced.fn(
        "Numbers.fail",
        Effect.fnUntraced(function*(n: number) {
          return yield* Effect.fail(`no ${n}`)
        }, Effect.mapError((message) => `${message}!`))
      )
      assert.strictEqual(yield* Effect.flip(failing(7)), "no 7!")
      assert.strictEqual(yield* Effect.flip(failing(7).pipe(Effect.withTracerEnabled(false))), "no 7!")
    }))
})
