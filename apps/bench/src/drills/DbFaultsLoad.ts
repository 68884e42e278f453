/**
 * The `dbfaults` drill's traffic: the same mix as `Load.ts` (sign-ups, orders with an `Idempotency-Key`,
 * payments, cancellations) over the same `Client.request`, but every exchange is also *timed* and
 * tagged with the drill's current phase (which fault was under way), and a 503 with a JSON body is an
 * acceptable answer (the database is unreachable or saturated) — retried like an unanswered request.
 *
 * It fills a `Load.Records` too, so the drills' invariant checker works unchanged: a 503 counts as
 * `answered`, any other 5xx as `5xx`, a status the operation never returns as `unexpected status`.
 */
import type * as Http from "node:http"
import { sleep } from "../Figures.js"
import * as Client from "./Client.js"
import * as ClientLoops from "./ClientLoops.js"
import { type Op, Records, responseVerdict, type Verdict } from "./Load.js"
import type { Replica } from "./Processes.js"

/** A request that took longer than this is a failure ("hung"): DATABASE_CONNECT_TIMEOUT + HTTP slack. */
export const hangBoundMs = 10_000

export interface Exchange {
  readonly phase: string
  readonly op: Op
  /** `200`, `503`, …, or `refused`, `broken`, `timeout`. */
  readonly outcome: string
  readonly ms: number
  readonly sentAt: number
  readonly detail: string
  readonly path: string
  /** A sign-up's e-mail (to look up afterwards whether a 500 had committed it). */
  readonly email?: string
}

const expected: Record<Op, ReadonlyArray<number>> = {
  signup: [201],
  order: [201],
  pay: [200, 409],
  cancel: [200, 409]
}

export interface TimedLoad {
  readonly records: Records
  readonly exchanges: Array<Exchange>
  readonly stop: () => Promise<void>
}

/** What an exchange's outcome means here (a 503 with a JSON body is an answer); counts statuses and break kinds. */
const classify = (
  records: Records,
  op: Op,
  outcome: Client.Outcome,
  accept: ReadonlyArray<number>
): { readonly verdict: Verdict; readonly label: string; readonly detail: string } => {
  let verdict: Verdict
  let label: string
  let detail = ""
  switch (outcome._tag) {
    case "Response":
      label = String(outcome.status)
      records.bump(records.statuses, `${op} ${outcome.status}`)
      // a 503 with a JSON body is the shop saying it cannot serve now: an answer
      return outcome.status === 503 && typeof outcome.json === "object" && outcome.json !== null
        ? { label, verdict: "answered", detail: JSON.stringify(outcome.json) }
        : { label, ...responseVerdict(outcome, accept) }
    case "Refused":
      label = "refused"
      verdict = "refused"
      break
    case "Broken":
      label = "broken"
      verdict = "broken"
      detail = `${outcome.code} while ${outcome.stage} (${outcome.reused ? "reused" : "new"} connection)`
      records.bump(records.brokenKinds, detail)
      break
    case "Timeout":
      label = "timeout"
      verdict = "timeout"
      detail = `no answer within ${Client.requestTimeoutMs} ms (${outcome.stage})`
      break
  }
  return { verdict, label, detail }
}

export const start = (options: {
  readonly runId: string
  readonly clients: number
  readonly replica: () => Replica | undefined
  readonly phase: () => string
}): TimedLoad => {
  const records = new Records()
  const exchanges: Array<Exchange> = []
  const agent: Http.Agent = Client.newAgent()
  let stopped = false

  const send = async (
    op: Op,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    accept: ReadonlyArray<number> = expected[op]
  ) => {
    let replica = options.replica()
    while (replica === undefined || replica.exited()) {
      if (stopped) return undefined
      await sleep(20)
      replica = options.replica()
    }
    const sentIn = options.phase()
    const sentAt = Date.now()
    const outcome = await Client.request(agent, replica.port, "POST", path, body, headers)
    const ms = Date.now() - sentAt
    // sent in one phase, answered in another: both (e.g. in flight when PostgreSQL went down)
    const phase = options.phase() === sentIn ? sentIn : `${sentIn} → ${options.phase()}`
    const classified = classify(records, op, outcome, accept)
    const { label, verdict } = classified
    let detail = classified.detail
    if (ms > hangBoundMs && verdict === "answered") detail = `took ${ms} ms ${detail}`
    exchanges.push({
      phase,
      op,
      outcome: label,
      ms,
      sentAt,
      detail,
      path,
      ...(op === "signup" ? { email: (body as { email: string }).email } : {})
    })
    records.count(op, verdict)
    if (verdict === "5xx" || verdict === "unexpected status" || verdict === "broken" || verdict === "timeout") {
      records.fail({
        at: sentAt + ms,
        sentAt,
        op,
        replica: `${replica.name} (pid ${replica.pid})`,
        process: replica,
        replicaState: `phase ${phase}`,
        verdict,
        detail: `POST ${path}: ${detail}`
      })
    }
    return outcome
  }

  /** A 503 or no answer: the request may be re-sent (same key / body). */
  const retryable = (outcome: Client.Outcome) => outcome._tag !== "Response" || outcome.status === 503

  const loops = ClientLoops.run({
    runId: options.runId,
    clients: options.clients,
    records,
    send,
    retryable,
    attempts: 10,
    retryDelayMs: 250,
    stopped: () => stopped
  })
  return {
    records,
    exchanges,
    stop: async () => {
      stopped = true
      await loops
      agent.destroy()
    }
  }
}
