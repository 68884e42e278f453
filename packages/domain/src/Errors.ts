/**
 * Errors that cross the wire. Each one carries its HTTP status (as a schema annotation) and a `message`
 * field, so the JSON body alone tells a caller what went wrong. Constructors fill the message in when
 * it is not given, so handlers can write `return yield* new OrderNotFound({ id })`.
 *
 * @since 0.1.0
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import { Email } from "./Email.js"
import { ReadinessCheck, ReadinessPhase } from "./Health.js"
import { OrderId, OrderStatus } from "./Order.js"
import type { IllegalTransition } from "./OrderStateMachine.js"

/**
 * `POST /v1/users` with an address that already has an account.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmailTaken extends Schema.TaggedError<EmailTaken>()("EmailTaken", {
  email: Email,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "An account with this e-mail address exists" })) {
  constructor(props: { readonly email: string; readonly message?: string }, options?: Schema.MakeOptions) {
    super({ ...props, message: props.message ?? `an account for ${props.email} already exists` }, options)
  }
}

/**
 * @since 0.1.0
 * @category errors
 */
export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", {
  id: OrderId,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404, description: "No order has this id" })) {
  constructor(props: { readonly id: number; readonly message?: string }, options?: Schema.MakeOptions) {
    super({ ...props, message: props.message ?? `order ${props.id} does not exist` }, options)
  }
}

/**
 * The order's current `status` does not allow the `attempted` one (paying a cancelled order,
 * cancelling a shipped one). The caller should re-read the order, not retry.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()("InvalidTransition", {
  id: OrderId,
  status: OrderStatus,
  attempted: OrderStatus,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "The order's current status forbids this change" })) {
  constructor(
    props: {
      readonly id: number
      readonly status: OrderStatus
      readonly attempted: OrderStatus
      readonly message?: string
    },
    options?: Schema.MakeOptions
  ) {
    super({
      ...props,
      message: props.message ?? `order ${props.id} is "${props.status}" and cannot become "${props.attempted}"`
    }, options)
  }

  /** Adds the order id to the state machine's error. */
  static fromIllegal(id: number, error: IllegalTransition): InvalidTransition {
    return new InvalidTransition({ id, status: error.from, attempted: error.to })
  }
}

/**
 * An `Idempotency-Key` reused with a different request body. 422, as the IETF draft
 * (draft-ietf-httpapi-idempotency-key-header, "Error Scenarios") specifies: the request is well-formed,
 * but it cannot be processed as a replay of the first one.
 *
 * @since 0.1.0
 * @category errors
 */
export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>()("IdempotencyConflict", {
  key: Schema.String,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 422, description: "The idempotency key was used for a different request" })) {
  constructor(props: { readonly key: string; readonly message?: string }, options?: Schema.MakeOptions) {
    super({
      ...props,
      message: props.message ?? `idempotency key "${props.key}" was already used with a different request body`
    }, options)
  }
}

/**
 * `/readyz` while the instance should get no traffic: starting, draining, or a dependency is down.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotReady extends Schema.TaggedError<NotReady>()("NotReady", {
  phase: ReadinessPhase,
  checks: Schema.Array(ReadinessCheck),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503, description: "The instance is not ready for traffic" })) {
  constructor(
    props: { readonly phase: string; readonly checks: ReadonlyArray<ReadinessCheck>; readonly message?: string },
    options?: Schema.MakeOptions
  ) {
    super({ ...props, message: props.message ?? `not ready: ${props.phase}` }, options)
  }
}

/**
 * A request body above the server's limit. Sent by middleware before any endpoint runs.
 *
 * @since 0.1.0
 * @category errors
 */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  maxBytes: Schema.NonNegativeInt,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 413, description: "The request body is larger than the server accepts" })) {
  constructor(props: { readonly maxBytes: number; readonly message?: string }, options?: Schema.MakeOptions) {
    super({ ...props, message: props.message ?? `request body exceeds ${props.maxBytes} bytes` }, options)
  }
}

/**
 * The service cannot answer now and the request may be retried after `Retry-After` seconds: the
 * database is out of reach or saturated, or the instance is shutting down. API-wide, because any
 * endpoint can meet it. A write cut this way may or may not have happened: retry a pay or cancel and
 * read its 409, retry an order with its `Idempotency-Key`.
 *
 * @since 0.2.0
 * @category errors
 */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503, description: "Temporarily unable to answer; retry after Retry-After" })) {
  constructor(props: { readonly message?: string } = {}, options?: Schema.MakeOptions) {
    super({ message: props.message ?? "the service is unavailable; retry shortly" }, options)
  }
}

/**
 * A body that is not JSON at all. The platform turns this into an empty 400; the server maps it to this
 * error so the caller learns why (schema mismatches are `HttpApiDecodeError`, also 400).
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedJson extends Schema.TaggedError<MalformedJson>()("MalformedJson", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400, description: "The request body is not valid JSON" })) {
  constructor(props: { readonly message?: string } = {}, options?: Schema.MakeOptions) {
    super({ message: props.message ?? "request body is not valid JSON" }, options)
  }
}

/**
 * `POST /v1/orders/:id/retry-booking` on an order whose booking has not failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class BookingNotFailed extends Schema.TaggedError<BookingNotFailed>()("BookingNotFailed", {
  id: OrderId,
  status: OrderStatus,
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "Only a failed booking can be retried" })) {
  constructor(
    props: { readonly id: number; readonly status: OrderStatus; readonly message?: string },
    options?: Schema.MakeOptions
  ) {
    super({
      ...props,
      message: props.message ?? `order ${props.id} is "${props.status}" and its booking has not failed`
    }, options)
  }
}
