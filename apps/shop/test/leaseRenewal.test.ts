/**
 * The stale-job lease renewal of the booking pool (`Bookings.book`): a job that waited in the queue
 * for `min(lease / 2, lease - CARRIER_TIMEOUT)` or longer since its claim renews its lease before it
 * calls the carrier, and gives the order up, without calling the carrier, if the lease was taken.
 *
 * Handshakes that cannot deadlock: the carrier is a fake (`fakeCarrier.ts`) that holds every booking until the
 * test releases it, so with one worker the second job of a claim waits in the queue for as long as
 * the test wants. The test holds no database lock: the table-lock handshake this replaces hung once an
 * assertion failed while it held the lock, because the shop's shutdown then waited for a booking
 * store blocked on that lock, whose holder was only released after the shutdown. The only wait on the
 * clock is a lower bound — the queued job will have waited at least that long — and every handshake is
 * a bounded poll; held bookings are answered before the shop shuts down, so a regression fails the
 * test instead of hanging it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Bookings } from "../src/Bookings.js"
import { type FakeCarrier, fakeCarrier } from "./fakeCarrier.js"
import { eventually } from "./fixtures.js"
import { bookings, paidOrder, TestLogs } from "./layers.js"

const leaseMs = 10_000
/** min(lease / 2, lease - CARRIER_TIMEOUT): a job may go straight to the carrier this long after its claim. */
const renewAfterMs = 100

/**
 * The booking pool with one carrier worker, and two orders packed at once: one claim leases both, the
 * first is held at the carrier and the second waits in the queue. Runs `test` with the order ids in
 * that order; held bookings are answered before the pool shuts down.
 */
const withTwoOrdersOneQueued = <A, E>(
  test: (setup: {
    readonly carrier: FakeCarrier
    readonly sql: SqlClient.SqlClient
    readonly owner: string
    readonly first: number
    readonly second: number
  }) => Effect.Effect<A, E, SqlClient.SqlClient | TestLogs>
) =>
  Effect.gen(function*() {
    const carrier = yield* fakeCarrier
    return yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { owner, pool } = yield* Bookings
      const ids = yield* Effect.forEach([0, 1], (i) => paidOrder(`c${i}@example.com`))
      const [first, second] = ids.sort((a, b) => a - b)
      yield* sql`UPDATE orders SET status = 'packed' WHERE id IN (${first}, ${second})`.pipe(Effect.orDie)
      yield* eventually(
        Effect.zip(pool.stats, carrier.booked),
        ([stats, booked]) => stats.inFlight === 1 && stats.queued === 1 && booked.length === 1,
        "the first booking held at the carrier, the second job queued"
      )
      assert.deepStrictEqual(yield* carrier.booked, [first], "the fresh job went to the carrier")
      return yield* test({ carrier, sql, owner, first, second })
    }).pipe(
      // before the pool stops: a failed test never waits on a held booking
      Effect.ensuring(carrier.releaseAll),
      Effect.provide(bookings({
        CARRIER_URL: carrier.url,
        CARRIER_CONCURRENCY: "1",
        CARRIER_LEASE: `${leaseMs} millis`,
        CARRIER_TIMEOUT: `${leaseMs - renewAfterMs} millis`,
        CARRIER_DISPATCH_INTERVAL: "20 millis",
        CARRIER_SHUTDOWN_TIMEOUT: "300 millis"
      }))
    )
  })

const leaseOf = (sql: SqlClient.SqlClient, id: number) =>
  Effect.map(
    sql<{ status: string; leaseOwner: string | null; untilMs: string | null }>`
      SELECT status, lease_owner, (extract(epoch FROM leased_until) * 1000)::float8::text AS until_ms
      FROM orders WHERE id = ${id}`,
    ([row]) => ({ status: row.status, owner: row.leaseOwner, untilMs: Number(row.untilMs) })
  ).pipe(Effect.orDie)

describe("booking lease renewal", () => {
  it.scopedLive(
    "a job that waited in the queue past its renewal point renews its lease before it calls the carrier",
    () =>
      withTwoOrdersOneQueued(({ carrier, first, owner, second, sql }) =>
        Effect.gen(function*() {
          const claimed = yield* leaseOf(sql, second)
          assert.strictEqual(claimed.owner, owner)
          // a lower bound, not a hope: by the time a worker takes it, the second job has waited longer than this
          yield* Effect.sleep(`${renewAfterMs + 50} millis`)
          yield* carrier.release(first)

          yield* eventually(carrier.booked, (booked) => booked.length === 2, "the second booking reached the carrier")
          assert.deepStrictEqual(yield* carrier.booked, [first, second])
          // held at the carrier: whatever its lease says now was written before the carrier was called
          const renewed = yield* leaseOf(sql, second)
          assert.strictEqual(renewed.owner, owner)
          assert.strictEqual(renewed.status, "packed")
          assert.isAtLeast(
            renewed.untilMs - claimed.untilMs,
            renewAfterMs,
            `leased until ${new Date(renewed.untilMs).toISOString()}, claimed until ${
              new Date(claimed.untilMs).toISOString()
            }: renewed before the call`
          )

          yield* carrier.release(second)
          yield* eventually(
            Effect.all([leaseOf(sql, first), leaseOf(sql, second)]),
            (orders) => orders.every((order) => order.status === "shipped"),
            "both shipped"
          )
        })
      ),
    30_000
  )

  it.scopedLive(
    "a job that waited in the queue past its renewal point, whose lease another replica took, never reaches the carrier",
    () =>
      withTwoOrdersOneQueued(({ carrier, first, owner, second, sql }) =>
        Effect.gen(function*() {
          const logs = yield* TestLogs
          // another replica takes the queued order's lease (as if ours had expired)
          const taken = yield* sql`
          UPDATE orders SET lease_owner = 'another-replica', leased_until = now() + interval '1 hour'
          WHERE id = ${second} AND lease_owner = ${owner} RETURNING id`.pipe(Effect.orDie)
          assert.strictEqual(taken.length, 1, "the queued order was leased to this shop")
          // a lower bound, not a hope: by the time a worker takes it, the second job has waited longer than this
          yield* Effect.sleep(`${renewAfterMs + 50} millis`)
          yield* carrier.release(first)

          const gaveUp = `order ${second} waited past its lease`
          yield* eventually(
            Effect.zip(Effect.sync(() => logs.lines.some((line) => line.includes(gaveUp))), carrier.booked),
            ([logged, booked]) => logged || booked.includes(second),
            "the stale job gave the order up, or called the carrier"
          )
          assert.deepStrictEqual(yield* carrier.booked, [first], "only the fresh job called the carrier")
          assert.isTrue(logs.lines.some((line) => line.includes(gaveUp)), `logged "${gaveUp}"`)
          yield* eventually(leaseOf(sql, first), (order) => order.status === "shipped", "the first shipped")
          const left = yield* leaseOf(sql, second)
          assert.deepStrictEqual([left.status, left.owner], ["packed", "another-replica"], "left to its next owner")
        })
      ),
    30_000
  )
})
