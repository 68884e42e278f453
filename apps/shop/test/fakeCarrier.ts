/**
 * A carrier speaking `@shop/carrier-client`'s wire protocol (apps/carrier-sim/src/Api.ts), for tests
 * that need to hold a booking for as long as they want: `POST /v1/shipments` is answered 201 only once
 * the test releases that order; `GET /v1/events` (the tracking feed's long poll) answers an empty page
 * after a second. Every booking request is recorded with its idempotency key. Closed with the scope,
 * answering whatever it still holds.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface BookingRequest {
  readonly orderId: number
  readonly idempotencyKey: string | undefined
}

export const fakeCarrier = Effect.gen(function*() {
  const requests: Array<BookingRequest> = [] // in the order they arrived
  const gates = new Map<number, { readonly promise: Promise<void>; readonly open: () => void }>()
  const gate = (orderId: number) => {
    let entry = gates.get(orderId)
    if (entry === undefined) {
      let open!: () => void
      const promise = new Promise<void>((resolve) => {
        open = resolve
      })
      entry = { promise, open }
      gates.set(orderId, entry)
    }
    return entry
  }
  const server = Http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://carrier")
    const answer = (status: number, body: unknown) => {
      if (!res.writableEnded && !res.destroyed) {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body))
      }
    }
    if (req.method === "POST" && url.pathname === "/v1/shipments") {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const { orderId } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { orderId: number }
        const key = req.headers["idempotency-key"]
        requests.push({ orderId, idempotencyKey: Array.isArray(key) ? key[0] : key })
        void gate(orderId).promise.then(() =>
          answer(201, { shipmentId: `shp-${orderId}`, trackingNumber: `TRK${orderId}` })
        )
      })
    } else if (req.method === "GET" && url.pathname === "/v1/events") {
      const after = Number(url.searchParams.get("after") ?? 0)
      const timer = setTimeout(() => answer(200, { events: [], cursor: after }), 1000)
      res.on("close", () => clearTimeout(timer))
    } else {
      answer(404, { _tag: "NotFound", message: `${req.method} ${url.pathname}` })
    }
  })
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.void))
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const entry of gates.values()) entry.open()
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Order ids whose booking reached the carrier, in arrival order (one per request). */
    booked: Effect.sync(() => requests.map((request) => request.orderId)),
    /** Every booking request, in arrival order. */
    requests: Effect.sync((): ReadonlyArray<BookingRequest> => [...requests]),
    /** Lets the carrier answer this order's bookings (now, or as soon as one arrives). */
    release: (orderId: number) => Effect.sync(() => gate(orderId).open()),
    releaseAll: Effect.sync(() => requests.forEach((request) => gate(request.orderId).open()))
  }
})

export type FakeCarrier = Effect.Effect.Success<typeof fakeCarrier>
