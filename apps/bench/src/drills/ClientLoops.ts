/**
 * The drills' traffic: client loops mixing sign-ups, orders with an `Idempotency-Key`, payments and
 * cancellations, re-sending what got no usable answer as a careful client would (same key, same
 * body). Each drill passes its own `send`, which picks the replica and classifies the exchange into
 * the shared `Records`; the loops decide only what to send next and what to retry.
 */
import { sleep } from "../Figures.js"
import type * as Client from "./Client.js"
import type { Op, Records } from "./Load.js"

export type Send = (
  op: Op,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
  accept?: ReadonlyArray<number>
) => Promise<Client.Outcome | undefined>

export interface Options {
  readonly runId: string
  readonly clients: number
  readonly records: Records
  /** Sends once; `undefined` when the drill stopped before a replica was found. */
  readonly send: Send
  /** May the request be re-sent? (no answer; for `dbfaults` also a 503) */
  readonly retryable: (outcome: Client.Outcome) => boolean
  readonly attempts: number
  readonly retryDelayMs: number
  readonly stopped: () => boolean
}

export const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1))
export const pickOne = <A>(items: ReadonlyArray<A>): A | undefined =>
  items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)]

/** An order of one to three random lines for `email`. */
const orderBody = (email: string) => ({
  email,
  items: Array.from({ length: randomInt(1, 3) }, (_, i) => ({
    sku: `SKU-${randomInt(1, 50)}-${i}`,
    quantity: randomInt(1, 3),
    unitPriceCents: randomInt(100, 5000)
  }))
})

/** Starts `clients` loops; the returned promise resolves when `stopped()` turned true and they all ended. */
export const run = (options: Options): Promise<void> => {
  const { records, retryable, send, stopped } = options
  let userSeq = 0
  let orderSeq = 0
  /** Orders believed pending (to pay) and the most recent ones (to cancel). */
  const pending: Array<number> = []
  const recent: Array<number> = []
  const emails: Array<string> = []

  const signup = async () => {
    const n = ++userSeq
    const email = `user${n}-${options.runId}@drill.example.com`
    const body = { name: `Drill User ${n}`, email, password: "correct horse battery" }
    let retried = false
    for (let attempt = 0; attempt < options.attempts && !stopped(); attempt++) {
      const outcome = await send("signup", "/v1/users", body, {}, retried ? [201, 409] : [201])
      if (outcome === undefined) return
      if (!retryable(outcome)) {
        if (outcome._tag === "Response" && outcome.status === 201) {
          records.signups201.add(email)
          emails.push(email)
        } else if (outcome._tag === "Response" && outcome.status === 409 && retried) records.signupRetry409++
        return
      }
      retried = true
      await sleep(options.retryDelayMs)
    }
  }

  const order = async () => {
    const n = ++orderSeq
    const key = `${options.runId}-order-${n}`
    const body = orderBody(pickOne(emails) ?? `buyer${n}-${options.runId}@drill.example.com`)
    records.orderKeysSent.add(key)
    for (let attempt = 0; attempt < options.attempts && !stopped(); attempt++) {
      if (attempt > 0) records.orderRetries++
      const outcome = await send("order", "/v1/orders", body, { "idempotency-key": key })
      if (outcome === undefined) return
      if (!retryable(outcome)) {
        if (outcome._tag === "Response" && outcome.status === 201) {
          const id = Number(outcome.json?.id)
          const ids = records.orders201.get(key) ?? new Set<number>()
          ids.add(id)
          records.orders201.set(key, ids)
          if (ids.size === 1 && !pending.includes(id)) {
            pending.push(id)
            recent.push(id)
            if (recent.length > 200) recent.shift()
          }
        }
        return
      }
      await sleep(options.retryDelayMs)
    }
  }

  const pay = async () => {
    if (pending.length === 0) return order()
    const id = pending.splice(Math.floor(Math.random() * pending.length), 1)[0]
    const outcome = await send("pay", `/v1/orders/${id}/pay`)
    if (outcome !== undefined && retryable(outcome)) pending.push(id) // paid or not: a later pay says 200 or 409
  }

  const cancel = async () => {
    const id = pickOne(recent)
    if (id === undefined) return order()
    const index = pending.indexOf(id)
    if (index >= 0) pending.splice(index, 1)
    await send("cancel", `/v1/orders/${id}/cancel`)
  }

  const loop = async () => {
    while (!stopped()) {
      const r = Math.random()
      if (r < 0.25) await signup()
      else if (r < 0.6) await order()
      else if (r < 0.9) await pay()
      else await cancel()
      await sleep(randomInt(2, 15))
    }
  }

  return Promise.all(Array.from({ length: options.clients }, () => loop())).then(() => undefined)
}
