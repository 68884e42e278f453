/**
 * The SQL every peer of the fulfillment worker runs, written once: a transition of given orders (the
 * job queues' `pick`/`pack` tasks, pgbench's script A) and the shop's own tick (pgbench's script B).
 * Each caller only says how the ids or the batch size reach the statement: `$1` for node-postgres,
 * `:id` for pgbench.
 */
import type { OrderStatus } from "@shop/domain/Order"
import * as OrderStateMachine from "@shop/domain/OrderStateMachine"
import * as Option from "effect/Option"

export interface Step {
  readonly from: OrderStatus
  readonly to: OrderStatus
}

const step = (from: OrderStatus): Step => ({ from, to: Option.getOrThrow(OrderStateMachine.nextFulfillmentStep(from)) })

/** paid → picking */
export const pick: Step = step("paid")
/** picking → packed */
export const pack: Step = step("picking")

/**
 * `WITH moved AS (…), events AS (…)`: moves the orders whose ids are in `ids` (an SQL expression of
 * type `bigint[]`) and still in `step.from`, and writes one event each. `events` yields the `order_id`
 * of every transition made, for the statement the caller ends it with. One statement, so atomic
 * without `BEGIN`/`COMMIT`; an order no longer in `step.from` (a job run twice) is left alone and
 * yields nothing, and the event's unique key would refuse a second transition anyway.
 */
export const transitionCte = (step: Step, ids: string): string =>
  `WITH moved AS (
  UPDATE orders SET status = '${step.to}', updated_at = now()
  WHERE id = ANY(${ids}) AND status = '${step.from}'
  RETURNING id
), events AS (
  INSERT INTO order_events (order_id, from_status, to_status)
  SELECT id, '${step.from}', '${step.to}' FROM moved
  RETURNING order_id
)`

/** {@link transitionCte} returning the ids of the orders it moved. */
export const transition = (step: Step, ids: string): string =>
  `${transitionCte(step, ids)}
SELECT order_id FROM events`

/** The shop's fulfillment steps as `Fulfillment.ts` derives them: both at once, by the order's status. */
const steps = [pick, pack]

/**
 * The shop's tick statement, as in `apps/shop/src/Fulfillment.ts` (there built with `sql.in` and
 * `sql.unsafe`; the text is the same): claim up to `batch` orders (an SQL expression) that are paid
 * or picking, oldest first, skipping rows another tick holds; advance each one step; one event each.
 */
export const tick = (batch: string): string =>
  `WITH claimed AS (
  SELECT id, status FROM orders WHERE status IN (${steps.map(({ from }) => `'${from}'`).join(", ")})
  ORDER BY id LIMIT ${batch}
  FOR UPDATE SKIP LOCKED
), moved AS (
  UPDATE orders o SET status = CASE claimed.status ${
    steps.map(({ from, to }) => `WHEN '${from}' THEN '${to}'`).join(" ")
  } END, updated_at = now()
  FROM claimed WHERE o.id = claimed.id
  RETURNING o.id, claimed.status AS from_status, o.status AS to_status
)
INSERT INTO order_events (order_id, from_status, to_status)
SELECT id, from_status, to_status FROM moved
RETURNING order_id`
