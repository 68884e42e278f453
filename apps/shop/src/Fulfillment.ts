/**
 * The fulfillment worker: every tick, one transaction claims up to a batch of `paid` or `picking`
 * orders (`FOR UPDATE SKIP LOCKED`, so replicas take disjoint orders with no leader), advances each
 * one step and writes one `order_events` row per transition.
 *
 * A tick that moved orders is followed by the next one at once; the interval only paces an idle worker.
 * A tick commits or rolls back as a whole: shutdown never cuts it (PeriodicWorker), and its own
 * `statement_timeout` (plus an abort a second later) bounds it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { OrderStatus } from "@shop/domain/Order"
import * as OrderStateMachine from "@shop/domain/OrderStateMachine"
import { PeriodicWorker } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ShopConfig } from "./ShopConfig.js"
import * as ShopMetrics from "./ShopMetrics.js"

/** The steps this worker takes, derived from the domain's state machine. */
export const steps: ReadonlyArray<readonly [OrderStatus, OrderStatus]> = (["paid", "picking"] as const).map((from) =>
  [from, Option.getOrThrow(OrderStateMachine.nextFulfillmentStep(from))] as const
)

export class Fulfillment extends Context.Tag("shop/Fulfillment")<Fulfillment, {
  /** One tick: returns the number of transitions it committed. */
  readonly tick: Effect.Effect<number>
  readonly worker: PeriodicWorker.PeriodicWorker
}>() {
  static readonly layer = Layer.scoped(
    Fulfillment,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const config = yield* ShopConfig
      const timeoutMs = Duration.toMillis(config.fulfillmentStatementTimeout)
      const froms = steps.map(([from]) => from)
      const cases = sql.unsafe(steps.map(([from, to]) => `WHEN '${from}' THEN '${to}'`).join(" "))

      const tick = sql.withTransaction(Effect.gen(function*() {
        // SET cannot take a bind parameter; the value is a number from Config.
        yield* sql.unsafe(`SET LOCAL statement_timeout = ${Math.round(timeoutMs)}`)
        const moved = yield* sql<{ orderId: number }>`
          WITH claimed AS (
            SELECT id, status FROM orders WHERE ${sql.in("status", froms)}
            ORDER BY id LIMIT ${config.fulfillmentBatch}
            FOR UPDATE SKIP LOCKED
          ), moved AS (
            UPDATE orders o SET status = CASE claimed.status ${cases} END, updated_at = now()
            FROM claimed WHERE o.id = claimed.id
            RETURNING o.id, claimed.status AS from_status, o.status AS to_status
          )
          INSERT INTO order_events (order_id, from_status, to_status)
          SELECT id, from_status, to_status FROM moved
          RETURNING order_id`
        return moved.length
      })).pipe(
        Effect.tap((n) =>
          Effect.sync(() => {
            ShopMetrics.fulfillmentTransitions.unsafeUpdate(n, ShopMetrics.noLabels)
            ShopMetrics.fulfillmentOrdersMoved.unsafeUpdate(n, ShopMetrics.noLabels)
          })
        ),
        Effect.orDie,
        Effect.withSpan("Fulfillment.tick")
      )

      const worker = yield* PeriodicWorker.make({
        name: "fulfillment",
        interval: config.fulfillmentInterval,
        tick,
        // a tick that moved anything runs the next at once: more may be waiting (a full batch, or the
        // orders it just moved, whose next step is due); one empty tick ends the run
        again: (moved) => moved > 0,
        tickTimeout: Duration.sum(config.fulfillmentStatementTimeout, Duration.seconds(1))
      })
      return { tick, worker }
    })
  )
}
