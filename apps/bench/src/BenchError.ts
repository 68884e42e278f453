/**
 * Anything that stops the bench or a drill: a process did not start, a run did not finish, a
 * database step failed.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"

export class BenchError extends Data.TaggedError("BenchError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** A failure of `@shop/process-harness` (or anything with a message) as a BenchError, same message. */
export const asBenchError = <A, E extends { readonly message: string }, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, BenchError, R> =>
  Effect.mapError(effect, (cause) => new BenchError({ message: cause.message, cause }))
