/**
 * Anything that stops the bench: the shop did not start, a run did not finish, a database step failed.
 */
import * as Data from "effect/Data"

export class BenchError extends Data.TaggedError("BenchError")<{
  readonly message: string
  readonly cause?: unknown
}> {}
