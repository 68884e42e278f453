/**
 * OpenTelemetry's `parentbased_traceidratio` sampler for an Effect `Tracer`, which has no sampler of
 * its own: a root span is kept with probability `ratio`, every other span follows its parent (an
 * incoming `traceparent` decides by its sampled flag). A span not kept is a plain object that is
 * never exported, and its children are not kept either, so an unsampled request costs little more
 * than with tracing off.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

const randomHex = (length: number) => {
  let out = ""
  for (let i = 0; i < length; i++) out += ((Math.random() * 16) | 0).toString(16)
  return out
}

/** A span kept for its ids and parent links only: nothing is recorded, nothing exported. */
class UnsampledSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly sampled = false
  readonly spanId = randomHex(16)
  readonly traceId: string
  readonly attributes = new Map<string, unknown>()
  readonly links: Array<Tracer.SpanLink>
  status: Tracer.SpanStatus
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.traceId = Option.match(parent, { onNone: () => randomHex(32), onSome: (span) => span.traceId })
    this.links = [...links]
    this.status = { _tag: "Started", startTime }
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
  attribute(): void {}
  event(): void {}
  addLinks(): void {}
}

/**
 * Wraps `tracer` with a parent-based ratio sampler (`ratio` in [0, 1]).
 *
 * @since 0.1.0
 */
export const parentBasedRatio = (ratio: number) => (tracer: Tracer.Tracer): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const keep = Option.match(parent, { onNone: () => Math.random() < ratio, onSome: (span) => span.sampled })
      return keep
        ? tracer.span(name, parent, context, links, startTime, kind, options)
        : new UnsampledSpan(name, parent, context, links, startTime, kind)
    },
    context: tracer.context
  })
