/**
 * Anything the harness could not do: the script is missing, the child exited or stayed silent
 * before what was awaited, an HTTP probe failed. The message carries the child's recent output.
 */
import * as Data from "effect/Data"

export class HarnessError extends Data.TaggedError("HarnessError")<{
  readonly message: string
  readonly cause?: unknown
}> {}
