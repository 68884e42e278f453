import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { OrderStatus } from "../src/Order.js"
import * as OrderStateMachine from "../src/OrderStateMachine.js"

const statuses: ReadonlyArray<OrderStatus> = [
  "pending",
  "paid",
  "picking",
  "packed",
  "shipped",
  "delivered",
  "cancelled"
]

// Written out by hand from docs/DESIGN.md rather than read from the module, so a change to the graph has
// to change this list too.
const expected: ReadonlyArray<readonly [OrderStatus, OrderStatus]> = [
  ["pending", "paid"],
  ["pending", "cancelled"],
  ["paid", "picking"],
  ["paid", "cancelled"],
  ["picking", "packed"],
  ["packed", "shipped"],
  ["shipped", "delivered"]
]
const isExpected = (from: OrderStatus, to: OrderStatus) => expected.some(([f, t]) => f === from && t === to)

describe("OrderStateMachine", () => {
  it.effect("allows exactly the documented moves", () =>
    Effect.sync(() => {
      assert.sameDeepMembers(
        OrderStateMachine.allowedTransitions.map(([from, to]) => [from, to]),
        expected.map(([from, to]) => [from, to])
      )
      for (const [from, to] of expected) {
        assert.isTrue(OrderStateMachine.canTransition(from, to), `${from} -> ${to}`)
        assert.deepStrictEqual(OrderStateMachine.transition(from, to), Either.right(to))
      }
    }))

  it.effect("rejects every other pair, naming the current status", () =>
    Effect.sync(() => {
      let rejected = 0
      for (const from of statuses) {
        for (const to of statuses) {
          if (isExpected(from, to)) continue
          rejected++
          assert.isFalse(OrderStateMachine.canTransition(from, to), `${from} -> ${to}`)
          const result = OrderStateMachine.transition(from, to)
          assert.isTrue(Either.isLeft(result))
          if (Either.isLeft(result)) {
            assert.strictEqual(result.left._tag, "IllegalTransition")
            assert.strictEqual(result.left.from, from)
            assert.strictEqual(result.left.to, to)
            assert.include(result.left.message, `"${from}"`)
          }
        }
      }
      assert.strictEqual(rejected, 7 * 7 - expected.length)
    }))

  it.effect("forbids the moves people ask for most", () =>
    Effect.sync(() => {
      assert.isFalse(OrderStateMachine.canTransition("picking", "cancelled"))
      assert.isFalse(OrderStateMachine.canTransition("shipped", "cancelled"))
      assert.isFalse(OrderStateMachine.canTransition("pending", "shipped"))
      assert.isFalse(OrderStateMachine.canTransition("paid", "paid"))
      assert.isFalse(OrderStateMachine.canTransition("delivered", "pending"))
      assert.isFalse(OrderStateMachine.canTransition("cancelled", "paid"))
    }))

  it.effect("marks delivered and cancelled terminal", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(statuses.filter(OrderStateMachine.isTerminal), ["delivered", "cancelled"])
      assert.deepStrictEqual(OrderStateMachine.nextStatuses("pending"), ["paid", "cancelled"])
      assert.strictEqual(OrderStateMachine.initialStatus, "pending")
    }))

  it.effect("nextFulfillmentStep moves only paid and picking", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(OrderStateMachine.nextFulfillmentStep("paid"), Option.some("picking"))
      assert.deepStrictEqual(OrderStateMachine.nextFulfillmentStep("picking"), Option.some("packed"))
      for (const status of ["pending", "packed", "shipped", "delivered", "cancelled"] as const) {
        assert.isTrue(Option.isNone(OrderStateMachine.nextFulfillmentStep(status)), status)
      }
      // every step it proposes is itself legal
      for (const status of statuses) {
        Option.map(OrderStateMachine.nextFulfillmentStep(status), (next) =>
          assert.isTrue(OrderStateMachine.canTransition(status, next)))
      }
    }))

  describe("paths", () => {
    const step = (from: OrderStatus, to: OrderStatus) => ({ from, to })
    const happy = [
      step("pending", "paid"),
      step("paid", "picking"),
      step("picking", "packed"),
      step("packed", "shipped"),
      step("shipped", "delivered")
    ]

    it.effect("accepts the happy path, both cancellations and the empty log", () =>
      Effect.sync(() => {
        assert.deepStrictEqual(OrderStateMachine.checkPath(happy), Either.right("delivered"))
        assert.isTrue(OrderStateMachine.isValidPath([]))
        assert.isTrue(OrderStateMachine.isValidPath([step("pending", "cancelled")]))
        assert.isTrue(OrderStateMachine.isValidPath([step("pending", "paid"), step("paid", "cancelled")]))
        assert.isTrue(OrderStateMachine.isValidPath(happy.slice(2), "picking"))
      }))

    it.effect("rejects skipped steps, broken chains, repeats and moves after the end", () =>
      Effect.sync(() => {
        assert.isFalse(OrderStateMachine.isValidPath([step("pending", "picking")]))
        assert.isFalse(OrderStateMachine.isValidPath([step("paid", "picking")]), "must start at pending")
        assert.isFalse(OrderStateMachine.isValidPath([step("pending", "paid"), step("pending", "paid")]))
        assert.isFalse(OrderStateMachine.isValidPath([...happy, step("delivered", "cancelled")]))
        assert.isFalse(OrderStateMachine.isValidPath([step("pending", "cancelled"), step("cancelled", "paid")]))
      }))

    it.effect("reports the first bad event", () =>
      Effect.sync(() => {
        const broken = OrderStateMachine.checkPath([step("pending", "paid"), step("picking", "packed")])
        assert.isTrue(Either.isLeft(broken))
        if (Either.isLeft(broken)) {
          assert.strictEqual(broken.left.index, 1)
          assert.strictEqual(broken.left.current, "paid")
          assert.strictEqual(broken.left.message, `event 1 starts at "picking" but the order was "paid"`)
        }
        const illegal = OrderStateMachine.checkPath([step("pending", "shipped")])
        assert.isTrue(Either.isLeft(illegal))
        if (Either.isLeft(illegal)) {
          assert.strictEqual(illegal.left.message, `event 0 moves "pending" to "shipped", which is not allowed`)
        }
      }))
  })
})
