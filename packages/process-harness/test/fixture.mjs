// A tiny service for the harness's own tests: logs like Logger.json, answers /readyz, exits on SIGTERM.
//   FIXTURE_MODE=crash  prints a raw line and exits 3 before listening
//   FIXTURE_READY_AFTER milliseconds /readyz answers 503 first
//   FIXTURE_EXIT_CODE   the exit code after SIGTERM (default 0)
import * as Http from "node:http"

const log = (message, annotations = {}) =>
  console.log(JSON.stringify({ message, logLevel: "INFO", timestamp: new Date().toISOString(), annotations }))

if (process.env.FIXTURE_MODE === "crash") {
  console.error("fixture: cannot start")
  process.exit(3)
}
const readyAt = Date.now() + Number(process.env.FIXTURE_READY_AFTER ?? 0)
const server = Http.createServer((request, response) => {
  response.writeHead(request.url === "/readyz" && Date.now() >= readyAt ? 200 : 503).end()
})
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  log("Listening on http://127.0.0.1:0", { service: "embedded" })
  log(`Listening on http://127.0.0.1:${server.address().port}`)
  console.log("not json")
})
process.once("SIGTERM", () => {
  log("stopping")
  server.close(() => process.exit(Number(process.env.FIXTURE_EXIT_CODE ?? 0)))
})
