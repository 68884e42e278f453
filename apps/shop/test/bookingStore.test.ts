import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as BookingStore from "../src/BookingStore.js"
import { infrastructure } from "./layers.js"

const booking = (id: number) => ({ shipmentId: `shp_${id}`, trackingNumber: `TRK${id}` })

describe("BookingStore", () => {
  it.scopedLive(
    "stores bookings that finish together, each only while this replica holds its lease",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // five packed orders: three leased to us, one to another replica, one whose lease of ours passed
        const rows = yield* sql<{ id: string }>`
        INSERT INTO orders (email, status, total_cents, lease_owner, leased_until)
        SELECT 'b' || g || '@example.com', 'packed', 100,
          CASE WHEN g = 4 THEN 'other' ELSE 'me' END,
          CASE WHEN g = 5 THEN now() - interval '1 second' ELSE now() + interval '1 minute' END
        FROM generate_series(1, 5) g ORDER BY g RETURNING id`.pipe(Effect.orDie)
        const ids = rows.map((row) => Number(row.id))

        const { store } = yield* BookingStore.make({ owner: "me", maxBatch: 4 }).pipe(
          Effect.provideService(SqlClient.SqlClient, sql)
        )
        const stored = yield* Effect.forEach(
          ids,
          (id) => store({ id, attempts: 2, booking: booking(id) }),
          { concurrency: "unbounded" }
        ).pipe(Effect.orDie)
        assert.deepStrictEqual(stored, [true, true, true, false, false])

        const after = yield* sql<
          {
            id: string
            status: string
            trackingNumber: string | null
            leaseOwner: string | null
            carrierAttempts: number
          }
        >`
        SELECT id, status, tracking_number, lease_owner, carrier_attempts FROM orders ORDER BY id`.pipe(Effect.orDie)
        assert.deepStrictEqual(
          after.map((row) => [Number(row.id), row.status, row.trackingNumber, row.leaseOwner, row.carrierAttempts]),
          [
            [ids[0], "shipped", `TRK${ids[0]}`, null, 2],
            [ids[1], "shipped", `TRK${ids[1]}`, null, 2],
            [ids[2], "shipped", `TRK${ids[2]}`, null, 2],
            [ids[3], "packed", null, "other", 0],
            [ids[4], "packed", null, "me", 0]
          ]
        )
        const events = yield* sql<{ orderId: string }>`
        SELECT order_id FROM order_events WHERE to_status = 'shipped' ORDER BY order_id`.pipe(Effect.orDie)
        assert.deepStrictEqual(events.map((row) => Number(row.orderId)), ids.slice(0, 3))
      }).pipe(Effect.provide(infrastructure())),
    30_000
  )
})
