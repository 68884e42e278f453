/**
 * `@shop/process-harness`'s one GET on a connection of its own, failing with a BenchError.
 */
import { HttpGet } from "@shop/process-harness"
import type * as Duration from "effect/Duration"
import { asBenchError } from "./BenchError.js"

/** The status and the body. */
export const get = (url: string, timeout: Duration.DurationInput = "5 seconds") =>
  asBenchError(HttpGet.get(url, timeout))
