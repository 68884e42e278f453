/**
 * Booking packed orders with the carrier: a dispatcher claims orders with a lease and offers them
 * to a WorkerPool; a worker books the shipment (idempotency key derived from the order id), then the
 * tracking number is stored and the order moved to `shipped` — only if this replica still holds the
 * lease — in one statement with the other bookings that finished meanwhile (BookingStore).
 *
 * Failures are retried with capped exponential backoff and jitter (a durable `carrier_next_attempt_at`,
 * not an in-memory sleep); after `CARRIER_MAX_ATTEMPTS`, or a refusal, the order is marked failed
 * with its last error until an operator retries it.
 *
 * Shutdown (docs/DESIGN.md, step 3): the dispatcher stops claiming when draining begins; orders queued but not
 * started get their lease back at once (another replica takes them now, not after the lease); in-flight
 * bookings finish and persist; past `CARRIER_SHUTDOWN_TIMEOUT` they are interrupted and released.
 * A crash leaves leases that expire after `CARRIER_LEASE`; the idempotency key makes the re-booking
 * return the same shipment.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { type Booking, isCarrierError } from "@shop/carrier-client"
import { PeriodicWorker, WorkerPool } from "@shop/lifecycle"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Crypto from "node:crypto"
import * as Os from "node:os"
import * as BookingStore from "./BookingStore.js"
import { Carrier } from "./Carrier.js"
import { ShopConfig } from "./ShopConfig.js"
import * as ShopMetrics from "./ShopMetrics.js"

export interface BookingJob {
  readonly id: number
  readonly email: string
  readonly attempts: number
  /** `Clock.currentTimeMillis` just before the claim: the lease runs until at least this + CARRIER_LEASE. */
  readonly claimedAt: number
  readonly items: ReadonlyArray<{ readonly sku: string; readonly quantity: number }>
}

export class Bookings extends Context.Tag("shop/Bookings")<Bookings, {
  /** This replica's name in `orders.lease_owner`. */
  readonly owner: string
  readonly pool: WorkerPool.WorkerPool<BookingJob>
  readonly dispatcher: PeriodicWorker.PeriodicWorker
}>() {
  static readonly layer = Layer.scoped(
    Bookings,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const config = yield* ShopConfig
      const carrier = yield* Carrier
      const owner = `${Os.hostname()}:${process.pid}:${Crypto.randomBytes(3).toString("hex")}`
      const leaseMs = Duration.toMillis(config.carrierLease)
      const renewAfterMs = Math.max(0, Math.min(leaseMs / 2, leaseMs - Duration.toMillis(config.carrierTimeout)))
      const outcome = (name: string, n = 1) =>
        Effect.sync(() => ShopMetrics.carrierBookings.unsafeUpdate(n, ShopMetrics.outcomeLabels(name)))

      const backoffMs = (attempts: number) => {
        const capped = Math.min(
          Duration.toMillis(config.carrierRetryMax),
          Duration.toMillis(config.carrierRetryBase) * 2 ** Math.max(0, attempts - 1)
        )
        return Math.round(capped * (0.5 + Math.random() * 0.5)) // jitter: replicas do not retry in lockstep
      }

      const release = (jobs: ReadonlyArray<BookingJob>) =>
        sql`UPDATE orders SET lease_owner = NULL, leased_until = NULL
            WHERE ${sql.in("id", jobs.map((job) => job.id))} AND lease_owner = ${owner}`.pipe(
          Effect.zipRight(outcome("released", jobs.length)),
          Effect.orDie
        )

      // Written in batches with the other bookings that finish meanwhile (BookingStore); created before
      // the pool, so it is released after it.
      const bookingStore = yield* BookingStore.make({ owner, maxBatch: config.carrierConcurrency })
      const persistBooked = (job: BookingJob, booking: Booking) =>
        bookingStore.store({ id: job.id, attempts: job.attempts + 1, booking })

      const persistFailure = (job: BookingJob, attempts: number, error: unknown) => {
        const retryable = isCarrierError(error) ? error.retryable : true
        const message = error instanceof Error ? error.message : String(error)
        const giveUp = !retryable || attempts >= config.carrierMaxAttempts
        return sql`
          UPDATE orders SET carrier_last_error = ${message}, lease_owner = NULL, leased_until = NULL,
            carrier_attempts = ${attempts}, carrier_failed = ${giveUp},
            carrier_next_attempt_at = now() + ${giveUp ? 0 : backoffMs(attempts)} * interval '1 millisecond'
          WHERE id = ${job.id} AND lease_owner = ${owner}`.pipe(
          Effect.zipRight(outcome(giveUp ? "failed" : "retry")),
          Effect.zipRight(
            giveUp
              ? Effect.logError(`carrier: order ${job.id} failed after ${attempts} attempt(s): ${message}`)
              : Effect.logWarning(
                `carrier: booking order ${job.id} failed (attempt ${attempts}), will retry: ${message}`
              )
          )
        )
      }

      const book = (job: BookingJob) =>
        Effect.gen(function*() {
          const attempts = job.attempts + 1
          // The lease started at claim time. A job that waited in the queue for less than half of it
          // still owns the order for longer than a carrier call may take (CARRIER_TIMEOUT), so it goes
          // straight to the carrier: one transaction per booking fewer. One that waited longer renews
          // its lease first, and does not call the carrier for an order this replica no longer owns.
          // (Either way the persist below re-checks the lease.)
          const waitedMs = (yield* Clock.currentTimeMillis) - job.claimedAt
          if (waitedMs >= renewAfterMs) {
            const owned = yield* sql`
              UPDATE orders SET leased_until = now() + ${leaseMs} * interval '1 millisecond'
              WHERE id = ${job.id} AND status = 'packed' AND lease_owner = ${owner} AND leased_until > now()
              RETURNING id`
            if (owned.length === 0) {
              return yield* Effect.zipRight(
                outcome("lease_lost"),
                Effect.logWarning(`carrier: order ${job.id} waited past its lease; left to its next owner`)
              )
            }
          }
          const startedAt = yield* Clock.currentTimeMillis
          const booked = yield* Effect.tryPromise({
            try: (signal) =>
              carrier.client.book(
                { orderId: job.id, email: job.email, items: job.items },
                { idempotencyKey: `order-${job.id}`, signal }
              ),
            catch: (error) => error
          }).pipe(Effect.either)
          // Persisting the outcome is never cut half-way; only the HTTP call is interruptible.
          yield* Effect.uninterruptible(
            booked._tag === "Right"
              ? Effect.flatMap(persistBooked(job, booked.right), (persisted) =>
                persisted
                  ? outcome("shipped")
                  : Effect.zipRight(
                    outcome("lease_lost"),
                    Effect.logWarning(
                      `carrier: order ${job.id} booked, but its lease had passed; the next owner re-books it`
                    )
                  ))
              : persistFailure(job, attempts, booked.left)
          )
          ShopMetrics.carrierBookingDuration.unsafeUpdate(
            ((yield* Clock.currentTimeMillis) - startedAt) / 1000,
            ShopMetrics.outcomeLabels(booked._tag === "Right" ? "booked" : "failed")
          )
        }).pipe(Effect.orDie, Effect.withSpan("Bookings.book", { attributes: { orderId: job.id } }))

      // A finished booking frees a slot: once the queue is down to half a round, wake the dispatcher
      // (created below) instead of waiting for its interval. Not after every booking: each claim is a
      // transaction, and claiming ~N/2 at a time keeps the workers fed for a fraction of the cost.
      const wake: { dispatcher?: PeriodicWorker.PeriodicWorker } = {}
      const wakeWhenLow: Effect.Effect<void> = Effect.suspend(() =>
        Effect.flatMap(
          pool.stats,
          (stats) =>
            stats.queued <= config.carrierConcurrency / 2 && wake.dispatcher ? wake.dispatcher.trigger : Effect.void
        )
      )
      const pool = yield* WorkerPool.make({
        name: "carrier",
        concurrency: config.carrierConcurrency,
        capacity: config.carrierConcurrency,
        process: (job: BookingJob) => Effect.zipRight(book(job), wakeWhenLow),
        onShutdown: "release",
        onRelease: release,
        shutdownTimeout: config.carrierShutdownTimeout,
        describe: (job) => `order ${job.id}`
      })

      // One statement: the lease and the orders' lines in one round trip.
      const claim = (limit: number) =>
        Effect.gen(function*() {
          const claimedAt = yield* Clock.currentTimeMillis
          const rows = yield* sql<{
            id: string
            email: string
            carrierAttempts: number
            items: ReadonlyArray<{ sku: string; quantity: number }>
          }>`
            WITH claimed AS (
              UPDATE orders SET lease_owner = ${owner}, leased_until = now() + ${leaseMs} * interval '1 millisecond'
              WHERE id IN (
                SELECT id FROM orders
                WHERE status = 'packed' AND NOT carrier_failed
                  AND (leased_until IS NULL OR leased_until < now())
                  AND (carrier_next_attempt_at IS NULL OR carrier_next_attempt_at <= now())
                ORDER BY id LIMIT ${limit}
                FOR UPDATE SKIP LOCKED)
              RETURNING id, email, carrier_attempts)
            SELECT c.id, c.email, c.carrier_attempts,
              (SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.line)
               FROM order_items i WHERE i.order_id = c.id) AS items
            FROM claimed c ORDER BY c.id`
          return rows.map((row): BookingJob => ({
            id: Number(row.id),
            email: row.email,
            attempts: row.carrierAttempts,
            claimedAt,
            items: row.items ?? []
          }))
        })

      const dispatch = Effect.gen(function*() {
        const stats = yield* pool.stats
        const room = 2 * config.carrierConcurrency - stats.queued - stats.inFlight
        if (room <= 0) return
        for (const job of yield* claim(room)) {
          // false once draining began: hand the lease back right away
          if (!(yield* pool.offer(job))) yield* release([job])
        }
      }).pipe(Effect.orDie)

      const dispatcher = yield* PeriodicWorker.make({
        name: "carrier-dispatcher",
        interval: config.carrierDispatchInterval,
        tick: dispatch,
        tickTimeout: "10 seconds"
      })

      wake.dispatcher = dispatcher

      return { owner, pool, dispatcher }
    })
  )
}
