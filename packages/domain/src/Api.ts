/**
 * The shop's HTTP contract. The server implements it with `HttpApiBuilder.group(ShopApi, …)`;
 * clients get a typed client from `HttpApiClient.make(ShopApi, { baseUrl })`. Decode failures of path,
 * query, headers or body are `HttpApiDecodeError` (400) on every endpoint.
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import {
  BookingNotFailed,
  EmailTaken,
  IdempotencyConflict,
  InvalidTransition,
  MalformedJson,
  NotReady,
  OrderNotFound,
  PayloadTooLarge,
  ServiceUnavailable
} from "./Errors.js"
import { Healthy, Ready } from "./Health.js"
import { CreateOrder, ListOrdersParams, Order, OrderIdFromString, OrderPage, OrderWithEvents } from "./Order.js"
import { CreateUser, User } from "./User.js"

/**
 * `/v1/orders/:id`. Non-numeric or zero ids fail decoding (400) before any handler runs.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderPath = Schema.Struct({ id: OrderIdFromString })

/**
 * Headers of `POST /v1/orders`. Node lowercases header names, hence the key. A retry with the same key
 * and body returns the first order instead of creating a second one.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IdempotencyHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)))
})

/**
 * Prometheus text exposition format.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MetricsText = HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4; charset=utf-8" })

/**
 * @since 0.1.0
 * @category groups
 */
export class UsersGroup extends HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.post("create", "/v1/users")
      .setPayload(CreateUser)
      .addSuccess(User, { status: 201 })
      .addError(EmailTaken)
      .annotate(OpenApi.Summary, "Sign up")
      .annotate(OpenApi.Description, "Creates an account and queues the welcome e-mail.")
  )
  .annotate(OpenApi.Description, "Accounts")
{}

/**
 * @since 0.1.0
 * @category groups
 */
export class OrdersGroup extends HttpApiGroup.make("orders")
  .add(
    HttpApiEndpoint.post("create", "/v1/orders")
      .setPayload(CreateOrder)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Order, { status: 201 })
      .addError(IdempotencyConflict)
      .annotate(OpenApi.Summary, "Place an order")
      .annotate(
        OpenApi.Description,
        "Creates a pending order. With an `Idempotency-Key` header, a retry with the same body returns the " +
          "original order (201 again); the same key with a different body is a 422."
      )
  )
  .add(
    HttpApiEndpoint.post("pay", "/v1/orders/:id/pay")
      .setPath(OrderPath)
      .addSuccess(Order)
      .addError(OrderNotFound)
      .addError(InvalidTransition)
      .annotate(OpenApi.Summary, "Mark an order paid")
      .annotate(OpenApi.Description, "pending → paid. Any other current status is a 409 naming it.")
  )
  .add(
    HttpApiEndpoint.post("cancel", "/v1/orders/:id/cancel")
      .setPath(OrderPath)
      .addSuccess(Order)
      .addError(OrderNotFound)
      .addError(InvalidTransition)
      .annotate(OpenApi.Summary, "Cancel an order")
      .annotate(OpenApi.Description, "pending or paid → cancelled. Once picking has started it is a 409.")
  )
  .add(
    HttpApiEndpoint.post("retryBooking", "/v1/orders/:id/retry-booking")
      .setPath(OrderPath)
      .addSuccess(OrderWithEvents)
      .addError(OrderNotFound)
      .addError(BookingNotFailed)
      .annotate(OpenApi.Summary, "Retry a failed carrier booking")
      .annotate(
        OpenApi.Description,
        "For operators: a packed order whose booking failed (carrier.failed) is booked again from scratch."
      )
  )
  .add(
    HttpApiEndpoint.get("get", "/v1/orders/:id")
      .setPath(OrderPath)
      .addSuccess(OrderWithEvents)
      .addError(OrderNotFound)
      .annotate(OpenApi.Summary, "Read an order and its status history")
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/orders")
      .setUrlParams(ListOrdersParams)
      .addSuccess(OrderPage)
      .annotate(OpenApi.Summary, "List orders, newest first")
      .annotate(OpenApi.Description, "Cursor-paged. Pass `nextCursor` back as `cursor`; it is null on the last page.")
  )
  .annotate(OpenApi.Description, "Orders and their life cycle")
{}

/**
 * Probes for orchestrators and scrapers. Unversioned: their paths are fixed by convention, not by us.
 *
 * @since 0.1.0
 * @category groups
 */
export class OpsGroup extends HttpApiGroup.make("ops")
  .add(
    HttpApiEndpoint.get("health", "/healthz")
      .addSuccess(Healthy)
      .annotate(OpenApi.Summary, "Liveness: the process is up")
  )
  .add(
    HttpApiEndpoint.get("ready", "/readyz")
      .addSuccess(Ready)
      .addError(NotReady)
      .annotate(OpenApi.Summary, "Readiness: 503 while starting, draining or a dependency is down")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(MetricsText)
      .annotate(OpenApi.Summary, "Prometheus metrics")
  )
  .annotate(OpenApi.Description, "Operations")
{}

/**
 * The whole contract. `MalformedJson` (400) and `PayloadTooLarge` (413) are API-wide because the
 * server's body middleware produces them before routing, for whatever endpoint was addressed;
 * `ServiceUnavailable` (503) because any endpoint can meet a database that is out of reach.
 *
 * @since 0.1.0
 * @category api
 */
export class ShopApi extends HttpApi.make("shop")
  .add(UsersGroup)
  .add(OrdersGroup)
  .add(OpsGroup)
  .addError(MalformedJson)
  .addError(PayloadTooLarge)
  .addError(ServiceUnavailable)
  .annotateContext(OpenApi.annotations({
    title: "Shop API",
    version: "0.1.0",
    description: "Accounts and orders for the reference shop. Every error body is JSON with `_tag` and `message`."
  }))
{}
