import { describe, expect, it } from "vitest"
import { CarrierClient, CarrierError } from "../src/index.js"
import { order, startSim, until } from "./helpers.js"

const rejection = async (promise: Promise<unknown>): Promise<CarrierError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(CarrierError)
  return error as CarrierError
}

describe("CarrierClient.book", () => {
  it("books, and a re-book with the same key returns the same shipment without creating another", async () => {
    const sim = await startSim()
    const client = new CarrierClient({ baseUrl: sim.url })
    const first = await client.book(order(1), { idempotencyKey: "order-1" })
    const again = await client.book(order(1), { idempotencyKey: "order-1" })
    expect(again).toEqual(first)
    expect(Object.keys(first).sort()).toEqual(["shipmentId", "trackingNumber"])
    const stats = await sim.stats()
    expect(stats.shipments).toBe(1)
    expect(stats.bookingsByKey).toEqual({ "order-1": 1 })
    expect(await client.getShipment(first.shipmentId)).toMatchObject({ ...order(1), ...first })
  })

  it("503: retryable, with the carrier's code; nothing booked", async () => {
    const sim = await startSim({ failureRate: 1 })
    const client = new CarrierClient({ baseUrl: sim.url })
    const error = await rejection(client.book(order(2), { idempotencyKey: "order-2" }))
    expect(error).toMatchObject({ status: 503, retryable: true, code: "CarrierUnavailable" })
    expect(error.message).toMatch(/503 CarrierUnavailable: the carrier is temporarily unavailable/)
    expect((await sim.stats()).shipments).toBe(0)
  })

  it("4xx: not retryable (missing key, invalid body, key reused for another order, unknown shipment)", async () => {
    const sim = await startSim()
    const client = new CarrierClient({ baseUrl: sim.url })
    expect(await rejection(client.book(order(3), { idempotencyKey: "" }))).toMatchObject({
      status: 400,
      retryable: false,
      code: "MissingIdempotencyKey"
    })
    expect(await rejection(client.book({ ...order(3), items: [] }, { idempotencyKey: "k" }))).toMatchObject({
      status: 400,
      retryable: false,
      code: "HttpApiDecodeError"
    })
    await client.book(order(3), { idempotencyKey: "order-3" })
    expect(await rejection(client.book(order(4), { idempotencyKey: "order-3" }))).toMatchObject({
      status: 422,
      retryable: false,
      code: "IdempotencyConflict"
    })
    expect(await rejection(client.getShipment("shp_nope"))).toMatchObject({
      status: 404,
      retryable: false,
      code: "ShipmentNotFound"
    })
  })

  it("no carrier listening: a retryable NETWORK error without status", async () => {
    const sim = await startSim()
    await sim.close()
    const client = new CarrierClient({ baseUrl: sim.url })
    const error = await rejection(client.book(order(5), { idempotencyKey: "order-5" }))
    expect(error).toMatchObject({ status: undefined, retryable: true, code: "NETWORK" })
    expect(error.message).toMatch(/ECONNREFUSED/)
  })

  it("a timeout is retryable; the carrier may still book, and the retry with the same key finds that shipment", async () => {
    const sim = await startSim({ latency: "300 millis" })
    const client = new CarrierClient({ baseUrl: sim.url, timeoutMs: 50 })
    const started = performance.now()
    const error = await rejection(client.book(order(6), { idempotencyKey: "order-6" }))
    expect(error).toMatchObject({ status: undefined, retryable: true, code: "TIMEOUT" })
    expect(performance.now() - started).toBeLessThan(1_000)

    await until(async () => (await sim.stats()).shipments === 1, "booked although the client gave up")
    const patient = new CarrierClient({ baseUrl: sim.url })
    await patient.book(order(6), { idempotencyKey: "order-6" })
    const stats = await sim.stats()
    expect(stats.bookingsByKey).toEqual({ "order-6": 1 })
    expect(stats.requests.replayed).toBe(1)
  })

  it("the caller's signal aborts the call", async () => {
    const sim = await startSim({ latency: "5 seconds" })
    const client = new CarrierClient({ baseUrl: sim.url })
    const controller = new AbortController()
    const pending = client.book(order(7), { idempotencyKey: "order-7", signal: controller.signal })
    await until(async () => (await sim.stats()).requests.pending === 1, "request arrived")
    controller.abort()
    expect(await rejection(pending)).toMatchObject({ code: "ABORTED", retryable: true })
  })
})
