/**
 * The shop's `LOG_FORMAT=json` lines as the shutdown run reads them: the time of each to the millisecond.
 */
import { LogLine as HarnessLogLine } from "@shop/process-harness"
import * as Option from "effect/Option"

export interface LogLine {
  readonly at: number
  readonly level: string
  readonly message: string
  readonly cause?: string | undefined
}

export const parseLogLine = (line: string): Option.Option<LogLine> =>
  Option.flatMap(Option.fromNullable(HarnessLogLine.parse(line)), (parsed) => {
    const at = Date.parse(String(parsed.timestamp))
    return Number.isFinite(at)
      ? Option.some({
        at,
        level: String(parsed.logLevel),
        message: parsed.message,
        cause: typeof parsed.cause === "string" && parsed.cause !== "" ? parsed.cause : undefined
      })
      : Option.none()
  })
