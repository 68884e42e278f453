/**
 * For tests that assert which spans code opens (or that it opens none): the current tracer, recording
 * the name of every span it is asked for.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"

/**
 * @since 0.1.0
 */
export const make: Effect.Effect<{ readonly names: Array<string>; readonly tracer: Tracer.Tracer }> = Effect.map(
  Effect.tracer,
  (native) => {
    const names: Array<string> = []
    const tracer = Tracer.make({
      span: (name, ...rest) => {
        names.push(name)
        return native.span(name, ...rest)
      },
      context: native.context
    })
    return { names, tracer }
  }
)
