/**
 * The order life cycle as a pure function. The database enforces the same graph
 * (`UPDATE … WHERE status = <from>`); this module is the one place that says which moves exist.
 *
 * ```text
 * pending ──► paid ──► picking ──► packed ──► shipped ──► delivered
 *    │          │
 *    └──────────┴──► cancelled
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { OrderStatus } from "./Order.js"

// Keyed by every status, so adding a status to `OrderStatus` fails to compile until its moves are decided.
const graph: { readonly [S in OrderStatus]: ReadonlyArray<OrderStatus> } = {
  pending: ["paid", "cancelled"],
  paid: ["picking", "cancelled"],
  picking: ["packed"],
  packed: ["shipped"],
  shipped: ["delivered"],
  delivered: [],
  cancelled: []
}

/**
 * The status every order is created in.
 *
 * @since 0.1.0
 * @category constants
 */
export const initialStatus: OrderStatus = "pending"

/**
 * Every legal move as `[from, to]`, for invariant checkers and migrations that mirror the graph.
 *
 * @since 0.1.0
 * @category constants
 */
export const allowedTransitions: ReadonlyArray<readonly [from: OrderStatus, to: OrderStatus]> = Object.entries(graph)
  .flatMap(([from, targets]) => targets.map((to) => [from as OrderStatus, to] as const))

/**
 * The statuses reachable from `from` in one move.
 *
 * @since 0.1.0
 * @category queries
 */
export const nextStatuses = (from: OrderStatus): ReadonlyArray<OrderStatus> => graph[from]

/**
 * @since 0.1.0
 * @category queries
 */
export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => graph[from].includes(to)

/**
 * `delivered` and `cancelled`: nothing happens to the order any more.
 *
 * @since 0.1.0
 * @category queries
 */
export const isTerminal = (status: OrderStatus): boolean => graph[status].length === 0

/**
 * A move the graph does not allow. Internal: the HTTP layer turns it into `InvalidTransition`,
 * which also carries the order id.
 *
 * @since 0.1.0
 * @category errors
 */
export class IllegalTransition extends Data.TaggedError("IllegalTransition")<{
  readonly from: OrderStatus
  readonly to: OrderStatus
}> {
  override get message(): string {
    return `order is "${this.from}" and cannot become "${this.to}"`
  }
}

/**
 * Validates one move and returns the new status.
 *
 * @since 0.1.0
 * @category transitions
 */
export const transition = (from: OrderStatus, to: OrderStatus): Either.Either<OrderStatus, IllegalTransition> =>
  canTransition(from, to) ? Either.right(to) : Either.left(new IllegalTransition({ from, to }))

/**
 * The warehouse step the fulfillment worker takes next: `paid → picking`, `picking → packed`.
 * Everything else is moved by someone else (payment, carrier, customer) or not at all.
 *
 * @since 0.1.0
 * @category transitions
 */
export const nextFulfillmentStep = (status: OrderStatus): Option.Option<OrderStatus> => {
  switch (status) {
    case "paid":
      return Option.some("picking")
    case "picking":
      return Option.some("packed")
    default:
      return Option.none()
  }
}

/**
 * An event log that the graph cannot have produced.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPath extends Data.TaggedError("InvalidPath")<{
  /** Position of the first bad event. */
  readonly index: number
  /** The status the order had reached before that event. */
  readonly current: OrderStatus
  readonly from: OrderStatus
  readonly to: OrderStatus
}> {
  override get message(): string {
    return this.from !== this.current
      ? `event ${this.index} starts at "${this.from}" but the order was "${this.current}"`
      : `event ${this.index} moves "${this.from}" to "${this.to}", which is not allowed`
  }
}

/**
 * Replays an event log from `start` (default {@link initialStatus}): each event must start where the
 * previous one ended and be an allowed move. Returns the final status.
 *
 * @since 0.1.0
 * @category paths
 */
export const checkPath = (
  events: ReadonlyArray<{ readonly from: OrderStatus; readonly to: OrderStatus }>,
  start: OrderStatus = initialStatus
): Either.Either<OrderStatus, InvalidPath> => {
  let current = start
  for (let index = 0; index < events.length; index++) {
    const { from, to } = events[index]
    if (from !== current || !canTransition(from, to)) {
      return Either.left(new InvalidPath({ index, current, from, to }))
    }
    current = to
  }
  return Either.right(current)
}

/**
 * `true` when {@link checkPath} accepts the log. An empty log is valid: a new order has no events.
 *
 * @since 0.1.0
 * @category paths
 */
export const isValidPath = (
  events: ReadonlyArray<{ readonly from: OrderStatus; readonly to: OrderStatus }>,
  start: OrderStatus = initialStatus
): boolean => Either.isRight(checkPath(events, start))
