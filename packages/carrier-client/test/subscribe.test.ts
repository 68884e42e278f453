import { describe, expect, it } from "vitest"
import { CarrierClient, type SubscriptionErrorInfo, type TrackingEvent } from "../src/index.js"
import { deferred, order, startSim, until } from "./helpers.js"

describe("CarrierClient.subscribe", () => {
  it("delivers every event once, in order, advancing the cursor as callbacks resolve", async () => {
    const sim = await startSim()
    const client = new CarrierClient({ baseUrl: sim.url })
    const first = await client.book(order(1), { idempotencyKey: "order-1" })
    const second = await client.book(order(2), { idempotencyKey: "order-2" })
    const received: Array<TrackingEvent> = []
    const cursors: Array<number> = []
    const subscription = client.subscribe(async (event) => {
      cursors.push(subscription.cursor)
      received.push(event)
    }, { waitSeconds: 5 })
    await until(() => received.length === 4, "four events")
    await subscription.close()

    expect(received.map((e) => e.seq)).toEqual([1, 2, 3, 4])
    // while an event is handled, the cursor is still the previous one
    expect(cursors).toEqual([0, 1, 2, 3])
    expect(subscription.cursor).toBe(4)
    for (const booking of [first, second]) {
      expect(received.filter((e) => e.shipmentId === booking.shipmentId).map((e) => e.type)).toEqual([
        "in_transit",
        "delivered"
      ])
    }
  })

  it("resumes after a persisted cursor", async () => {
    const sim = await startSim()
    const client = new CarrierClient({ baseUrl: sim.url })
    await client.book(order(1), { idempotencyKey: "order-1" })
    await until(async () => (await sim.stats()).events === 2, "both events emitted")
    const received: Array<number> = []
    const subscription = client.subscribe(async (event) => void received.push(event.seq), { after: 1 })
    await until(() => received.length === 1, "one event")
    await subscription.close()
    expect(received).toEqual([2])
  })

  it("a rejected callback gets the same event again after a backoff; nothing is skipped and the cursor waits", async () => {
    const sim = await startSim()
    const client = new CarrierClient({ baseUrl: sim.url })
    await client.book(order(1), { idempotencyKey: "order-1" })
    const calls: Array<{ seq: number; cursor: number; at: number }> = []
    const errors: Array<SubscriptionErrorInfo> = []
    let failuresLeft = 2
    const subscription = client.subscribe(async (event) => {
      calls.push({ seq: event.seq, cursor: subscription.cursor, at: performance.now() })
      if (event.seq === 1 && failuresLeft-- > 0) throw new Error("database unavailable")
    }, { waitSeconds: 5, onError: (_error, info) => errors.push(info) })
    await until(() => calls.some((c) => c.seq === 2), "event 2 delivered")
    await subscription.close()

    expect(calls.map((c) => [c.seq, c.cursor])).toEqual([[1, 0], [1, 0], [1, 0], [2, 1]])
    expect(errors.map((e) => [e.source, e.attempt, e.retryInMs, e.event?.seq])).toEqual([
      ["callback", 1, 100, 1],
      ["callback", 2, 200, 1]
    ])
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(95)
    expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(195)
    expect(subscription.cursor).toBe(2)
  })

  it("close() aborts the waiting long poll at once; no callback afterwards", async () => {
    const sim = await startSim()
    const client = new CarrierClient({ baseUrl: sim.url })
    let calls = 0
    const subscription = client.subscribe(async () => void calls++, { waitSeconds: 30 })
    await until(async () => (await sim.stats()).polls.waiting === 1, "long poll waiting on the server")

    const started = performance.now()
    await subscription.close()
    expect(performance.now() - started).toBeLessThan(500)
    expect(subscription.closed).toBe(true)
    await until(async () => (await sim.stats()).polls.waiting === 0, "the server saw the poll go away")

    await client.book(order(1), { idempotencyKey: "order-1" })
    await until(async () => (await sim.stats()).events === 2, "events emitted after close")
    const page = await (await fetch(`${sim.url}/v1/events?after=0`)).json() as { events: Array<unknown> }
    expect(page.events).toHaveLength(2)
    expect(calls).toBe(0)
    expect(subscription.cursor).toBe(0)
  })

  it("close() during a callback waits for it, keeps its event if it resolves, and starts no other", async () => {
    const sim = await startSim()
    const client = new CarrierClient({ baseUrl: sim.url })
    await client.book(order(1), { idempotencyKey: "order-1" })
    await until(async () => (await sim.stats()).events === 2, "both events emitted")
    const entered = deferred()
    const release = deferred()
    const seen: Array<number> = []
    let aborted = false
    const subscription = client.subscribe(async (event, { signal }) => {
      seen.push(event.seq)
      entered.resolve()
      await release.promise
      aborted = signal.aborted
    })
    await entered.promise
    let closed = false
    const closing = subscription.close().then(() => (closed = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(closed).toBe(false)
    release.resolve()
    await closing
    expect(aborted).toBe(true)
    expect(seen).toEqual([1])
    expect(subscription.cursor).toBe(1)
  })

  it("poll failures back off and are reported; the subscription recovers when the carrier is back", async () => {
    const first = await startSim()
    const port = first.port
    await first.close()
    const client = new CarrierClient({ baseUrl: first.url })
    const errors: Array<[unknown, SubscriptionErrorInfo]> = []
    const received: Array<TrackingEvent> = []
    const subscription = client.subscribe(async (event) => void received.push(event), {
      waitSeconds: 5,
      retryDelayMs: 20,
      onError: (error, info) => errors.push([error, info])
    })
    await until(() => errors.length >= 3, "three failed polls")
    expect(errors.slice(0, 3).map(([, info]) => [info.source, info.attempt, info.retryInMs])).toEqual([
      ["poll", 1, 20],
      ["poll", 2, 40],
      ["poll", 3, 80]
    ])
    expect(errors[0][0]).toMatchObject({ name: "CarrierError", code: "NETWORK", retryable: true })

    const second = await startSim({ port })
    const booking = await client.book(order(1), { idempotencyKey: "order-1" })
    await until(() => received.length === 2, "events after recovery")
    await subscription.close()
    expect(received.map((e) => [e.seq, e.shipmentId])).toEqual([[1, booking.shipmentId], [2, booking.shipmentId]])
    expect((await second.stats()).shipments).toBe(1)
  })
})
