/**
 * Stores finished bookings in batches. Every booking that finished while the previous batch was being
 * committed goes into the next statement (group commit, no timer): one transaction and one WAL flush
 * for several bookings instead of one each. It matters most at shutdown, when the bookings in flight
 * all come back within a few milliseconds: one or two statements instead of N of them queued on the
 * connection pool, which the SIGTERM → exit time waits for.
 *
 * An order moves to `shipped` (and gets its event) only if this replica still holds its lease.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Booking } from "@shop/carrier-client"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

export interface Booked {
  readonly id: number
  /** The attempt that booked it, stored as `carrier_attempts`. */
  readonly attempts: number
  readonly booking: Booking
}

export interface BookingStore {
  /** Resolves once the batch holding this booking committed: `false` when the lease had passed. */
  readonly store: (booked: Booked) => Effect.Effect<boolean, SqlError>
}

/**
 * Starts the writer in the current scope. Create it before the worker pool that calls `store`, so that
 * it is released after the pool: in-flight bookings finishing at shutdown are still written.
 */
export const make = (options: { readonly owner: string; readonly maxBatch: number }): Effect.Effect<
  BookingStore,
  never,
  Scope.Scope | SqlClient.SqlClient
> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const queue = yield* Effect.acquireRelease(
      Queue.unbounded<readonly [Booked, Deferred.Deferred<boolean, SqlError>]>(),
      Queue.shutdown
    )

    const write = (batch: ReadonlyArray<Booked>) =>
      Effect.map(
        sql<{ orderId: string }>`
          WITH booked AS (
            SELECT * FROM json_to_recordset(${
          JSON.stringify(batch.map((b) => ({
            id: b.id,
            attempts: b.attempts,
            tracking_number: b.booking.trackingNumber,
            shipment_id: b.booking.shipmentId
          })))
        }::json) AS b(id bigint, attempts int, tracking_number text, shipment_id text)
          ), moved AS (
            UPDATE orders o SET status = 'shipped', tracking_number = b.tracking_number, shipment_id = b.shipment_id,
              lease_owner = NULL, leased_until = NULL, carrier_attempts = b.attempts, carrier_last_error = NULL,
              updated_at = now()
            FROM booked b
            WHERE o.id = b.id AND o.status = 'packed' AND o.lease_owner = ${options.owner} AND o.leased_until > now()
            RETURNING o.id)
          INSERT INTO order_events (order_id, from_status, to_status)
          SELECT id, 'packed', 'shipped' FROM moved
          RETURNING order_id`,
        (rows) => new Set(rows.map((row) => Number(row.orderId)))
      )

    // Waiting for work is interruptible (the scope closes when the pool is done); a batch, once taken,
    // is written and answered as a whole.
    const writeNext = Effect.flatMap(
      Queue.takeBetween(queue, 1, options.maxBatch),
      (taken) =>
        Effect.uninterruptible(Effect.gen(function*() {
          const entries = Chunk.toReadonlyArray(taken)
          const written = yield* Effect.exit(write(entries.map(([booked]) => booked)))
          for (const [booked, done] of entries) {
            yield* Deferred.done(done, Exit.map(written, (ids) => ids.has(booked.id)))
          }
        }))
    )
    yield* Effect.forkScoped(Effect.forever(writeNext))

    return {
      store: (booked) =>
        Effect.flatMap(
          Deferred.make<boolean, SqlError>(),
          (done) => Effect.zipRight(Queue.offer(queue, [booked, done]), Deferred.await(done))
        )
    }
  })
