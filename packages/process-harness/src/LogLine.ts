/**
 * One line of Effect's `Logger.json`, as a child prints it on stdout.
 */

/** `message` joined with spaces when several values were logged; `annotations` always present. */
export interface LogLine {
  readonly message: string
  readonly logLevel: string
  readonly timestamp: string
  readonly annotations: Record<string, unknown>
  readonly cause?: string
}

/** What to wait for: a string (contained) or RegExp over the message, or a predicate over the line. */
export type LogMatch = string | RegExp | ((line: LogLine) => boolean)

/** The line, or `undefined` when it is not a JSON object (raw output). */
export const parse = (text: string): LogLine | undefined => {
  if (!text.startsWith("{")) return undefined
  try {
    const parsed = JSON.parse(text)
    if (typeof parsed !== "object" || parsed === null) return undefined
    const message = Array.isArray(parsed.message) ? parsed.message.join(" ") : String(parsed.message)
    return { ...parsed, message, annotations: parsed.annotations ?? {} }
  } catch {
    return undefined
  }
}

/**
 * A string or RegExp sees only the lines `own` accepts (e.g. not an embedded component's); a
 * predicate sees every line.
 */
export const matches = (match: LogMatch, line: LogLine, own: (line: LogLine) => boolean = () => true) =>
  typeof match === "string"
    ? own(line) && line.message.includes(match)
    : match instanceof RegExp
    ? own(line) && match.test(line.message)
    : match(line)

/** `INFO [service] message cause`, the service only for an annotated (embedded) component's line. */
export const format = (line: LogLine) =>
  `${line.logLevel} ${
    line.annotations.service === undefined ? "" : `[${String(line.annotations.service)}] `
  }${line.message}${line.cause ? ` ${line.cause}` : ""}`
