/**
 * The traffic of a drill: a few client loops, each sending a steady mix of sign-ups, orders (with an
 * `Idempotency-Key`), payments and cancellations to a random live replica over a keep-alive agent.
 *
 * Every exchange is classified (see `Client.ts`); the acknowledgements the invariant checker holds
 * the shop to are recorded: each 201 of `POST /v1/orders` with its key and order id, each 201 sign-up's
 * e-mail. A request that did not get an answer is retried as a real client would — an order with the
 * same key and body, a sign-up with the same body (a 409 then means the first attempt had committed).
 */
import type * as Http from "node:http"
import { sleep } from "../Figures.js"
import * as Client from "./Client.js"
import * as ClientLoops from "./ClientLoops.js"
import type { Replica } from "./Processes.js"

export type Op = "signup" | "order" | "pay" | "cancel"
export const ops: ReadonlyArray<Op> = ["signup", "order", "pay", "cancel"]

/** How an exchange ended, for the report. */
export type Verdict =
  | "answered"
  /** ECONNREFUSED: nothing listened (a replica between its listener closing and its restart). Fine. */
  | "refused"
  /** Broken or unanswered, but its replica had been SIGKILLed: expected, not a failure. */
  | "cut by SIGKILL"
  /** Broken (reset, hang-up) on a live or gracefully stopping replica: a failure. */
  | "broken"
  | "timeout"
  | "5xx"
  /** A status the operation never returns in this drill (400, 404, 422, …): a failure. */
  | "unexpected status"

export const failingVerdicts: ReadonlyArray<Verdict> = ["broken", "timeout", "5xx", "unexpected status"]

export interface Failure {
  readonly at: number
  readonly sentAt: number
  readonly op: Op
  readonly replica: string
  /** The process itself, to line the failure up with its shutdown log afterwards. */
  readonly process: Replica
  /** What the replica was doing: running, draining after SIGTERM (with the ms since the signal), … */
  readonly replicaState: string
  readonly verdict: Verdict
  readonly detail: string
}

export class Records {
  readonly counts = new Map<string, number>()
  readonly statuses = new Map<string, number>()
  /** Broken exchanges by `code, stage, reused or new connection` (failures only). */
  readonly brokenKinds = new Map<string, number>()
  readonly failures: Array<Failure> = []
  failureCount = 0
  /** E-mail of every 201 sign-up. */
  readonly signups201 = new Set<string>()
  /** Every order id each key's 201s returned (must be one). */
  readonly orders201 = new Map<string, Set<number>>()
  /** Every key sent, acknowledged or not. */
  readonly orderKeysSent = new Set<string>()
  /** 409 `EmailTaken` on a retry after an unanswered first attempt (the first had committed). */
  signupRetry409 = 0
  /** Unanswered order creations retried with the same key. */
  orderRetries = 0

  bump(map: Map<string, number>, key: string, by = 1) {
    map.set(key, (map.get(key) ?? 0) + by)
  }
  count(op: Op, verdict: Verdict) {
    this.bump(this.counts, `${op}|${verdict}`)
  }
  get(op: Op, verdict: Verdict) {
    return this.counts.get(`${op}|${verdict}`) ?? 0
  }
  total(verdict: Verdict) {
    return ops.reduce((sum, op) => sum + this.get(op, verdict), 0)
  }
  fail(failure: Failure) {
    this.failureCount++
    if (this.failures.length < 200) this.failures.push(failure)
  }
}

const expectedStatuses: Record<Op, ReadonlyArray<number>> = {
  signup: [201],
  order: [201],
  pay: [200, 409],
  cancel: [200, 409]
}

export const describeState = (replica: Replica, at: number) => {
  const exitedAt = replica.exitedAt()
  const signalled = replica.signalled()
  if (exitedAt !== undefined && exitedAt <= at) return `exited ${at - exitedAt} ms before`
  if (signalled && signalled.at <= at) return `${signalled.signal} sent ${at - signalled.at} ms before`
  return "running, not signalled"
}

export interface LoadOptions {
  readonly runId: string
  readonly clients: number
  /** A random replica that should be served: running, or draining after SIGTERM; never a SIGKILLed one. */
  readonly pick: () => Replica | undefined
}

export interface Load {
  readonly records: Records
  /** Stops the loops after their current exchange and resolves when they all ended. */
  readonly stop: () => Promise<void>
}

/** A response: a 5xx, a status the operation does not expect, or answered. */
export const responseVerdict = (
  response: { readonly status: number; readonly json: unknown },
  accept: ReadonlyArray<number>
): { verdict: Verdict; detail: string } =>
  response.status >= 500
    ? { verdict: "5xx", detail: `${response.status} ${JSON.stringify(response.json)}` }
    : !accept.includes(response.status)
    ? { verdict: "unexpected status", detail: `${response.status} ${JSON.stringify(response.json)}` }
    : { verdict: "answered", detail: "" }

/** What an exchange's outcome means for the drill (a cut by SIGKILL is expected); counts statuses and break kinds. */
const classify = (
  records: Records,
  op: Op,
  outcome: Client.Outcome,
  accept: ReadonlyArray<number>,
  killed: number | undefined
): { readonly verdict: Verdict; readonly detail: string } => {
  let verdict: Verdict
  let detail = ""
  switch (outcome._tag) {
    case "Response":
      records.bump(records.statuses, `${op} ${outcome.status}`)
      return responseVerdict(outcome, accept)
    case "Refused":
      verdict = "refused"
      break
    case "Broken":
      if (killed !== undefined && outcome.at >= killed) verdict = "cut by SIGKILL"
      else {
        verdict = "broken"
        const kind = `${outcome.code} while ${outcome.stage}, ${
          outcome.reused ? "reused keep-alive" : "new"
        } connection`
        records.bump(records.brokenKinds, kind)
        detail = `${kind}: ${outcome.message}`
      }
      break
    case "Timeout":
      if (killed !== undefined) verdict = "cut by SIGKILL"
      else {
        verdict = "timeout"
        detail = `no answer within ${Client.requestTimeoutMs} ms (${outcome.stage}, ${
          outcome.reused ? "reused" : "new"
        } connection)`
      }
      break
  }
  return { verdict, detail }
}

export const start = (options: LoadOptions): Load => {
  const records = new Records()
  const agent: Http.Agent = Client.newAgent()
  let stopped = false

  /** A replica to talk to; waits while none is up. `undefined` once stopped. */
  const target = async (): Promise<Replica | undefined> => {
    while (!stopped) {
      const replica = options.pick()
      if (replica) return replica
      await sleep(20)
    }
    return undefined
  }

  /** Sends once and classifies; `undefined` when the drill stopped before a replica was found. */
  const send = async (
    op: Op,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    accept: ReadonlyArray<number> = expectedStatuses[op]
  ) => {
    const replica = await target()
    if (replica === undefined) return undefined
    const sentAt = Date.now()
    const outcome = await Client.request(agent, replica.port, "POST", path, body, headers)
    const endedAt = Date.now()
    const killed = replica.signalled()?.signal === "SIGKILL" ? replica.signalled()!.at : undefined
    const { detail, verdict } = classify(records, op, outcome, accept, killed)
    records.count(op, verdict)
    if (failingVerdicts.includes(verdict)) {
      records.fail({
        at: endedAt,
        sentAt,
        op,
        replica: `${replica.name} (pid ${replica.pid})`,
        process: replica,
        replicaState: `sent while ${describeState(replica, sentAt)}; ended while ${describeState(replica, endedAt)}`,
        verdict,
        detail: `POST ${path}: ${detail}`
      })
    }
    return { replica, outcome, verdict }
  }

  const loops = ClientLoops.run({
    runId: options.runId,
    clients: options.clients,
    records,
    send: (op, path, body, headers, accept) => send(op, path, body, headers, accept).then((sent) => sent?.outcome),
    // no answer at all (reset, refused): re-sent; any status is final
    retryable: (outcome) => outcome._tag !== "Response",
    attempts: 5,
    retryDelayMs: 20,
    stopped: () => stopped
  })
  return {
    records,
    stop: async () => {
      stopped = true
      await loops
      agent.destroy()
    }
  }
}
