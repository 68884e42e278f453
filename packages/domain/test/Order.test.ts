import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import {
  CreateOrder,
  ListOrdersParams,
  Order,
  OrderIdFromString,
  OrderItem,
  OrderWithEvents,
  totalCents
} from "../src/Order.js"

const item = (overrides: Record<string, unknown> = {}) => ({
  sku: "TEA-1",
  quantity: 1,
  unitPriceCents: 450,
  ...overrides
})
const order = (overrides: Record<string, unknown> = {}) => ({ email: "ada@example.com", items: [item()], ...overrides })

const decodeOrder = Schema.decodeUnknownEither(CreateOrder)
const accepts = (input: unknown) => assert.isTrue(Either.isRight(decodeOrder(input)), JSON.stringify(input))
const rejects = (input: unknown) => assert.isTrue(Either.isLeft(decodeOrder(input)), JSON.stringify(input))

describe("CreateOrder", () => {
  it.effect("decodes a good order, normalizing e-mail and SKU", () =>
    Effect.gen(function*() {
      const decoded = yield* Schema.decodeUnknown(CreateOrder)(
        order({ email: "  Ada@Example.COM ", items: [item({ sku: "  TEA-1\t" })] })
      )
      assert.strictEqual(decoded.email, "ada@example.com")
      assert.strictEqual(decoded.items[0].sku, "TEA-1")
    }))

  it.effect("bounds quantity to 1..1000 integers", () =>
    Effect.sync(() => {
      accepts(order({ items: [item({ quantity: 1 })] }))
      accepts(order({ items: [item({ quantity: 1000 })] }))
      rejects(order({ items: [item({ quantity: 0 })] }))
      rejects(order({ items: [item({ quantity: 1001 })] }))
      rejects(order({ items: [item({ quantity: 1.5 })] }))
      rejects(order({ items: [item({ quantity: "2" })] }))
    }))

  it.effect("takes 1 to 100 lines", () =>
    Effect.sync(() => {
      accepts(order({ items: Array.from({ length: 100 }, () => item()) }))
      rejects(order({ items: Array.from({ length: 101 }, () => item()) }))
      rejects(order({ items: [] }))
      rejects(order({ items: undefined }))
    }))

  it.effect("bounds unit prices to 0..100000000 integer cents", () =>
    Effect.sync(() => {
      accepts(order({ items: [item({ unitPriceCents: 0 })] }))
      accepts(order({ items: [item({ unitPriceCents: 100_000_000 })] }))
      rejects(order({ items: [item({ unitPriceCents: -1 })] }))
      rejects(order({ items: [item({ unitPriceCents: 100_000_001 })] }))
      rejects(order({ items: [item({ unitPriceCents: 4.5 })] }))
      rejects(order({ items: [item({ unitPriceCents: Number.MAX_SAFE_INTEGER })] }))
    }))

  it.effect("rejects malformed e-mail addresses", () =>
    Effect.sync(() => {
      for (const email of ["nope", "a@b", "a b@example.com", "a@@example.com", "@example.com", "a@exa\u0000mple.com"]) {
        rejects(order({ email }))
      }
      rejects(order({ email: `${"a".repeat(243)}@example.com` })) // 255 characters
      accepts(order({ email: `${"a".repeat(242)}@example.com` })) // 254 characters
      accepts(order({ email: "first.last+tag@sub.example.co.uk" }))
    }))

  it.effect("takes SKUs of 1-64 printable ASCII characters, and nothing else", () =>
    Effect.sync(() => {
      accepts(order({ items: [item({ sku: "A".repeat(64) })] }))
      accepts(order({ items: [item({ sku: "tea/green_250.g-#1" })] }))
      rejects(order({ items: [item({ sku: "A".repeat(65) })] }))
      rejects(order({ items: [item({ sku: "" })] }))
      rejects(order({ items: [item({ sku: "   " })] }))
      rejects(order({ items: [item({ sku: "TEA 1" })] }))
      rejects(order({ items: [item({ sku: "A\u0000B" })] })) // Postgres cannot store NUL in text
      rejects(order({ items: [item({ sku: "THÉ-1" })] }))
      rejects(order({ items: [item({ sku: "SKU-\u041a" })] })) // Cyrillic Ka, looks like K
      rejects(order({ items: [item({ sku: "🍵" })] }))
    }))

  it.effect("keeps repeated SKUs as separate lines and totals exactly", () =>
    Effect.gen(function*() {
      const decoded = yield* Schema.decodeUnknown(CreateOrder)(
        order({ items: [item({ quantity: 2 }), item({ quantity: 3 })] })
      )
      assert.strictEqual(decoded.items.length, 2)
      assert.strictEqual(totalCents(decoded.items), 5 * 450)
      const worst = Array.from({ length: 100 }, () => OrderItem.make({ sku: "X", quantity: 1000, unitPriceCents: 1e8 }))
      assert.strictEqual(totalCents(worst), 1e13)
      assert.isTrue(Number.isSafeInteger(totalCents(worst)))
    }))
})

describe("Order on the wire", () => {
  const createdAt = DateTime.unsafeMake("2025-03-01T10:00:00.000Z")
  const updatedAt = DateTime.unsafeMake("2025-03-01T10:05:30.250Z")
  const sample = OrderWithEvents.make({
    id: 7,
    status: "paid",
    email: "ada@example.com",
    items: [{ sku: "TEA-1", quantity: 2, unitPriceCents: 450 }],
    totalCents: 900,
    trackingNumber: null,
    createdAt,
    updatedAt,
    events: [{ from: "pending", to: "paid", at: updatedAt }],
    carrier: { attempts: 0, shipmentId: null, lastError: null, failed: false }
  })

  it.effect("encodes timestamps as ISO-8601 strings and decodes them back", () =>
    Effect.gen(function*() {
      const json = JSON.parse(JSON.stringify(yield* Schema.encode(OrderWithEvents)(sample)))
      assert.deepStrictEqual(json, {
        id: 7,
        status: "paid",
        email: "ada@example.com",
        items: [{ sku: "TEA-1", quantity: 2, unitPriceCents: 450 }],
        totalCents: 900,
        trackingNumber: null,
        createdAt: "2025-03-01T10:00:00.000Z",
        updatedAt: "2025-03-01T10:05:30.250Z",
        events: [{ from: "pending", to: "paid", at: "2025-03-01T10:05:30.250Z" }],
        carrier: { attempts: 0, shipmentId: null, lastError: null, failed: false }
      })
      const back = yield* Schema.decodeUnknown(OrderWithEvents)(json)
      assert.isTrue(DateTime.Equivalence(back.createdAt, createdAt))
      assert.strictEqual(back.events[0].to, "paid")
    }))

  it.effect("rejects a non-date timestamp and an unknown status", () =>
    Effect.gen(function*() {
      const json = yield* Schema.encode(Order)(sample)
      assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Order)({ ...json, createdAt: "yesterday" })))
      assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Order)({ ...json, status: "lost" })))
    }))
})

describe("path and query parameters", () => {
  it.effect("order ids are plain positive decimal integers", () =>
    Effect.sync(() => {
      const decode = Schema.decodeUnknownEither(OrderIdFromString)
      assert.deepStrictEqual(decode("42"), Either.right(42))
      assert.deepStrictEqual(decode(String(Number.MAX_SAFE_INTEGER)), Either.right(Number.MAX_SAFE_INTEGER))
      for (const bad of ["abc", "0", "-1", "1.5", "1e3", "0x10", " 7", "", "Infinity", "9007199254740992", "042"]) {
        assert.isTrue(Either.isLeft(decode(bad)), bad)
      }
      assert.strictEqual(Schema.encodeSync(OrderIdFromString)(42), "42")
    }))

  it.effect("ListOrdersParams: everything optional, limit 1..100", () =>
    Effect.sync(() => {
      const decode = Schema.decodeUnknownEither(ListOrdersParams)
      assert.deepStrictEqual(decode({}), Either.right({}))
      assert.deepStrictEqual(
        decode({ status: "paid", limit: "100", cursor: "abc" }),
        Either.right({ status: "paid" as const, limit: 100, cursor: "abc" })
      )
      for (const bad of [{ limit: "0" }, { limit: "101" }, { limit: "ten" }, { status: "lost" }, { cursor: "" }]) {
        assert.isTrue(Either.isLeft(decode(bad)), JSON.stringify(bad))
      }
    }))
})
