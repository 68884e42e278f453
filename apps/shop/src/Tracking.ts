/**
 * The carrier's tracking feed: the vendor SDK calls us back once per event and waits for the
 * promise (the third-party callback pattern). CallbackBridge turns that into jobs of a WorkerPool
 * and resolves the promise once the event is processed, so the SDK advances its cursor only past
 * events whose effect is committed. Once the service drains, the callback rejects and the SDK
 * keeps the event: it is delivered again after a restart, or to another replica.
 *
 * Processing is idempotent and exactly-once in effect: the feed's cursor lives in `carrier_feed`
 * and moves in the same transaction as the event's effect (`shipped → delivered`, plus a "your
 * order has arrived" e-mail in the outbox), under a row lock, so a redelivered event — or the same
 * event seen by two replicas — changes nothing the second time.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { TrackingEvent } from "@shop/carrier-client"
import { BackgroundTasks, CallbackBridge, WorkerPool } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import { Carrier } from "./Carrier.js"
import { Outbox } from "./Outbox.js"
import * as ShopMetrics from "./ShopMetrics.js"

/** An event for an order not yet marked shipped (its booking is still being persisted): try again later. */
class NotYetShipped extends Data.TaggedError("NotYetShipped")<{ readonly orderId: number }> {}

const feedName = "carrier"

export class Tracking extends Context.Tag("shop/Tracking")<Tracking, {
  /** The last event whose effect is committed. */
  readonly cursor: Effect.Effect<number>
  readonly stats: Effect.Effect<{ readonly processed: number; readonly sdkCursor: number }>
}>() {
  static readonly layer = Layer.scoped(
    Tracking,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const carrier = yield* Carrier
      const outbox = yield* Outbox
      const tasks = yield* BackgroundTasks.BackgroundTasks
      const runtime = yield* Effect.runtime<never>()
      let processed = 0

      const readCursor = Effect.map(
        sql<{ cursor: string }>`
          INSERT INTO carrier_feed (name) VALUES (${feedName}) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
          RETURNING cursor`,
        ([row]) => Number(row.cursor)
      ).pipe(Effect.orDie)

      const apply = (event: TrackingEvent) =>
        sql.withTransaction(Effect.gen(function*() {
          const [feed] = yield* sql<{ cursor: string }>`
            SELECT cursor FROM carrier_feed WHERE name = ${feedName} FOR UPDATE`
          if (event.seq <= Number(feed.cursor)) return undefined // already processed: a redelivery
          let mail: number | undefined
          if (event.type === "delivered") {
            const [order] = yield* sql<{ status: string; email: string }>`
              SELECT status, email FROM orders WHERE id = ${event.orderId} FOR UPDATE`
            if (order?.status === "packed") return yield* new NotYetShipped({ orderId: event.orderId })
            if (order?.status === "shipped") {
              yield* sql`UPDATE orders SET status = 'delivered', updated_at = now() WHERE id = ${event.orderId}`
              yield* sql`INSERT INTO order_events (order_id, from_status, to_status)
                         VALUES (${event.orderId}, 'shipped', 'delivered')`
              const [row] = yield* sql<{ id: string }>`
                INSERT INTO outbox (kind, recipient, subject, body)
                VALUES ('delivered', ${order.email}, ${`Your order ${event.orderId} has arrived`},
                        ${`Hello,\r\n\r\nyour order ${event.orderId} was delivered (tracking ${event.trackingNumber}).\r\n`})
                RETURNING id`
              mail = Number(row.id)
            }
          }
          yield* sql`UPDATE carrier_feed SET cursor = ${event.seq}, updated_at = now() WHERE name = ${feedName}`
          return mail
        })).pipe(
          Effect.tap((mail) =>
            mail === undefined ? Effect.void : Effect.ignore(tasks.run(`delivered-email:${mail}`, outbox.deliver(mail)))
          ),
          Effect.tap(() =>
            Effect.sync(() => {
              processed++
              const lagSeconds = Math.max(0, (Date.now() - Date.parse(event.at)) / 1000)
              ShopMetrics.trackingFeedLag.unsafeUpdate(lagSeconds, ShopMetrics.noLabels)
              ShopMetrics.trackingEvents.unsafeUpdate(1, ShopMetrics.typeLabels(event.type))
            })
          ),
          Effect.catchTag("SqlError", Effect.die)
        )

      // One event at a time, in order: the SDK already serialises its callbacks.
      const pool = yield* WorkerPool.make({
        name: "tracking",
        concurrency: 1,
        capacity: 1,
        process: apply,
        describe: (event: TrackingEvent) => `event ${event.seq}`
      })
      const callback = yield* CallbackBridge.make(pool, { resolveWhen: "processed" })

      const after = yield* readCursor
      const subscription = yield* Effect.acquireRelease(
        Effect.sync(() =>
          carrier.client.subscribe((event) => callback(event), {
            after,
            waitSeconds: 25,
            onError: (error, info) => {
              const message = error instanceof Error ? error.message : String(error)
              if (info.source === "callback" && message.includes("shutting down")) return
              Runtime.runFork(runtime)(
                Effect.logWarning(`tracking: ${info.source} failed (retry in ${info.retryInMs} ms): ${message}`)
              )
            }
          })
        ),
        // Released before the pool: no callback starts once this resolves.
        (subscription) => Effect.promise(() => subscription.close())
      )
      yield* Effect.log(`tracking: following the carrier feed after event ${after}`)

      return {
        cursor: readCursor,
        stats: Effect.sync(() => ({ processed, sdkCursor: subscription.cursor }))
      }
    })
  )
}
