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
import * as Client from "./Client.js"
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1))
const pickOne = <A>(items: ReadonlyArray<A>): A | undefined =>
  items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)]

export const describeState = (replica: Replica, at: number) => {
  const exited = replica.exited()
  const signalled = replica.signalled()
  if (exited && exited.at <= at) return `exited ${at - exited.at} ms before`
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

export const start = (options: LoadOptions): Load => {
  const records = new Records()
  const agent: Http.Agent = Client.newAgent()
  let stopped = false
  let userSeq = 0
  let orderSeq = 0
  /** Orders believed pending (to pay) and the most recent ones (to cancel). */
  const pending: Array<number> = []
  const recent: Array<number> = []
  const emails: Array<string> = []

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
    let verdict: Verdict
    let detail = ""
    switch (outcome._tag) {
      case "Response":
        records.bump(records.statuses, `${op} ${outcome.status}`)
        if (outcome.status >= 500) {
          verdict = "5xx"
          detail = `${outcome.status} ${JSON.stringify(outcome.json)}`
        } else if (!accept.includes(outcome.status)) {
          verdict = "unexpected status"
          detail = `${outcome.status} ${JSON.stringify(outcome.json)}`
        } else verdict = "answered"
        break
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

  const signup = async () => {
    const n = ++userSeq
    const email = `user${n}-${options.runId}@drill.example.com`
    const body = { name: `Drill User ${n}`, email, password: "correct horse battery" }
    let unanswered = false
    for (let attempt = 0; attempt < 5 && !stopped; attempt++) {
      const sent = await send("signup", "/v1/users", body, {}, unanswered ? [201, 409] : [201])
      if (sent === undefined) return
      if (sent.outcome._tag === "Response") {
        if (sent.outcome.status === 201) {
          records.signups201.add(email)
          emails.push(email)
        } else if (sent.outcome.status === 409 && unanswered) records.signupRetry409++
        return
      }
      unanswered = true
      await sleep(20)
    }
  }

  const order = async () => {
    const n = ++orderSeq
    const key = `${options.runId}-order-${n}`
    const body = {
      email: pickOne(emails) ?? `buyer${n}-${options.runId}@drill.example.com`,
      items: Array.from({ length: randomInt(1, 3) }, (_, i) => ({
        sku: `SKU-${randomInt(1, 50)}-${i}`,
        quantity: randomInt(1, 3),
        unitPriceCents: randomInt(100, 5000)
      }))
    }
    records.orderKeysSent.add(key)
    for (let attempt = 0; attempt < 5 && !stopped; attempt++) {
      if (attempt > 0) records.orderRetries++
      const sent = await send("order", "/v1/orders", body, { "idempotency-key": key })
      if (sent === undefined) return
      if (sent.outcome._tag === "Response") {
        if (sent.outcome.status === 201) {
          const id = Number(sent.outcome.json?.id)
          const ids = records.orders201.get(key) ?? new Set<number>()
          ids.add(id)
          records.orders201.set(key, ids)
          if (attempt === 0 || ids.size === 1) {
            pending.push(id)
            recent.push(id)
            if (recent.length > 200) recent.shift()
          }
        }
        return
      }
      await sleep(20)
    }
  }

  const pay = async () => {
    if (pending.length === 0) return order()
    const id = pending.splice(Math.floor(Math.random() * pending.length), 1)[0]
    await send("pay", `/v1/orders/${id}/pay`)
  }

  const cancel = async () => {
    const id = pickOne(recent)
    if (id === undefined) return order()
    const index = pending.indexOf(id)
    if (index >= 0) pending.splice(index, 1)
    await send("cancel", `/v1/orders/${id}/cancel`)
  }

  const loop = async () => {
    while (!stopped) {
      const r = Math.random()
      if (r < 0.25) await signup()
      else if (r < 0.6) await order()
      else if (r < 0.9) await pay()
      else await cancel()
      await sleep(randomInt(2, 15))
    }
  }

  const loops = Array.from({ length: options.clients }, () => loop())
  return {
    records,
    stop: async () => {
      stopped = true
      await Promise.all(loops)
      agent.destroy()
    }
  }
}
