import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Tracer from "effect/Tracer"
import * as RecordingTracer from "../src/RecordingTracer.js"
import * as Sampler from "../src/Sampler.js"

/** The native tracer, recording the names of the spans it is asked for. */

const request = Effect.gen(function*() {
  const outer = yield* Effect.currentSpan
  const inner = yield* Effect.currentSpan.pipe(Effect.withSpan("handler"))
  return { outer, inner }
}).pipe(Effect.withSpan("http.server GET"), Effect.orDie)

describe("Sampler.parentBasedRatio", () => {
  it.effect("ratio 0: a root span and its children are not kept, and keep one trace id", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* RecordingTracer.make
      const { inner, outer } = yield* request.pipe(
        Effect.provide(Layer.setTracer(Sampler.parentBasedRatio(0)(tracer)))
      )
      assert.deepStrictEqual(names, [])
      assert.isFalse(outer.sampled)
      assert.isFalse(inner.sampled)
      assert.strictEqual(inner.traceId, outer.traceId)
      assert.match(outer.traceId, /^[0-9a-f]{32}$/)
      assert.match(outer.spanId, /^[0-9a-f]{16}$/)
    }))

  it.effect("ratio 0 follows a sampled caller: a request continuing a sampled traceparent is kept", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* RecordingTracer.make
      const caller = Tracer.externalSpan({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" })
      const { inner } = yield* request.pipe(
        Effect.withParentSpan(caller),
        Effect.provide(Layer.setTracer(Sampler.parentBasedRatio(0)(tracer)))
      )
      assert.deepStrictEqual(names, ["http.server GET", "handler"])
      assert.strictEqual(inner.traceId, caller.traceId)
    }))

  it.effect("an unsampled caller is followed even at ratio 1; ratio 1 keeps every root", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* RecordingTracer.make
      const caller = Tracer.externalSpan({
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
        sampled: false
      })
      yield* request.pipe(
        Effect.withParentSpan(caller),
        Effect.provide(Layer.setTracer(Sampler.parentBasedRatio(1)(tracer)))
      )
      assert.deepStrictEqual(names, [], "the caller said not sampled")
      yield* request.pipe(Effect.provide(Layer.setTracer(Sampler.parentBasedRatio(1)(tracer))))
      assert.deepStrictEqual(names, ["http.server GET", "handler"])
    }))
})
