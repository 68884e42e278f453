import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  EmailTaken,
  IdempotencyConflict,
  InvalidTransition,
  MalformedJson,
  NotReady,
  OrderNotFound,
  PayloadTooLarge
} from "../src/Errors.js"
import { IllegalTransition } from "../src/OrderStateMachine.js"

describe("wire errors", () => {
  it.effect("carry their HTTP status", () =>
    Effect.sync(() => {
      const statuses = [EmailTaken, OrderNotFound, InvalidTransition, IdempotencyConflict, NotReady, PayloadTooLarge]
        .map((schema) => [schema._tag, HttpApiSchema.getStatusError(schema)])
      assert.deepStrictEqual(
        Object.fromEntries([...statuses, ["MalformedJson", HttpApiSchema.getStatusError(MalformedJson)]]),
        {
          EmailTaken: 409,
          OrderNotFound: 404,
          InvalidTransition: 409,
          IdempotencyConflict: 422,
          NotReady: 503,
          PayloadTooLarge: 413,
          MalformedJson: 400
        }
      )
    }))

  it.effect("fill in a message and put it in the JSON body", () =>
    Effect.gen(function*() {
      const error = new InvalidTransition({ id: 3, status: "shipped", attempted: "cancelled" })
      assert.strictEqual(error.message, `order 3 is "shipped" and cannot become "cancelled"`)
      assert.deepStrictEqual(yield* Schema.encode(InvalidTransition)(error), {
        _tag: "InvalidTransition",
        id: 3,
        status: "shipped",
        attempted: "cancelled",
        message: `order 3 is "shipped" and cannot become "cancelled"`
      })
      assert.strictEqual(new OrderNotFound({ id: 9 }).message, "order 9 does not exist")
      assert.strictEqual(
        new EmailTaken({ email: "ada@example.com" }).message,
        "an account for ada@example.com already exists"
      )
      assert.strictEqual(new PayloadTooLarge({ maxBytes: 1024 }).message, "request body exceeds 1024 bytes")
      assert.strictEqual(new MalformedJson().message, "request body is not valid JSON")
      assert.strictEqual(new MalformedJson({ message: "Unexpected token" }).message, "Unexpected token")
      assert.strictEqual(new NotReady({ phase: "draining", checks: [] }).message, "not ready: draining")
      assert.include(new IdempotencyConflict({ key: "k1" }).message, `"k1"`)
    }))

  it.effect("keep a decoded message as sent", () =>
    Effect.gen(function*() {
      const decoded = yield* Schema.decodeUnknown(OrderNotFound)({ _tag: "OrderNotFound", id: 1, message: "gone" })
      assert.instanceOf(decoded, OrderNotFound)
      assert.strictEqual(decoded.message, "gone")
    }))

  it.effect("InvalidTransition.fromIllegal adds the id to the state machine's error", () =>
    Effect.sync(() => {
      const error = InvalidTransition.fromIllegal(5, new IllegalTransition({ from: "cancelled", to: "paid" }))
      assert.strictEqual(error.status, "cancelled")
      assert.strictEqual(error.attempted, "paid")
      assert.strictEqual(error.id, 5)
    }))
})
