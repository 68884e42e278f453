/**
 * Running a child Node process the way the outside world sees it. See README.md.
 */
export * as Child from "./Child.js"
export * as FreePort from "./FreePort.js"
export { HarnessError } from "./HarnessError.js"
export * as HttpGet from "./HttpGet.js"
export * as Leftovers from "./Leftovers.js"
export * as LogLine from "./LogLine.js"
export * as Readiness from "./Readiness.js"
export * as Rss from "./Rss.js"
export * as TempDir from "./TempDir.js"
