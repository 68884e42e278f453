/**
 * `Effect.fn` for the hot path: a traced function that costs nothing for tracing when tracing is
 * off. `Effect.fn(name)` opens a span on every call even with the tracer disabled — a no-op span, a
 * copy of the fiber's whole context to make it the parent, an exit hook to end it, and an `Error` for
 * the call site's stack trace — which is measurable on a request that does little else
 * (apps/bench/README.md, "Where the misses come from"). {@link fn} decides per call: with the tracer
 * enabled it is `Effect.withSpan(name)` around the body, otherwise the body alone.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as Tracer from "effect/Tracer"

/**
 * Wraps `body` (e.g. an `Effect.fnUntraced` generator with its pipeables) in a span named `name`,
 * only when the calling fiber's tracer is enabled.
 *
 * @example
 * const get = Traced.fn("Orders.get", Effect.fnUntraced(function*(id: number) { ... }, refineSqlError))
 *
 * @since 0.1.0
 * @category constructors
 */
export const fn = <Args extends ReadonlyArray<unknown>, A, E, R>(
  name: string,
  body: (...args: Args) => Effect.Effect<A, E, R>,
  options?: Tracer.SpanOptions
): (...args: Args) => Effect.Effect<A, E, R> =>
(...args) =>
  Effect.withFiberRuntime((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled)
      ? Effect.withSpan(body(...args), name, options)
      : body(...args)
  )
