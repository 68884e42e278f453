/**
 * `node apps/bench/dist/codecs.js`: µs per call of the fast server's compiled schema code against
 * `ParseResult`, on the shapes the shop's hot endpoints carry (the `OrderWithEvents` a GET answers,
 * the `CreateOrder` a POST sends). A microbenchmark: one process, no I/O, five measured rounds after a
 * warm-up, each printed, so a change to `packages/fast-httpapi/src/internal/compiled.ts` can be
 * judged on a noisy machine where a full `pnpm compare` cannot tell 1 µs from noise.
 */
import { CreateOrder, OrderWithEvents } from "@shop/domain/Order"
import { compile, Fallback } from "@shop/fast-httpapi/internal/compiled"
import * as DateTime from "effect/DateTime"
import * as Schema from "effect/Schema"

const now = DateTime.unsafeMake(Date.UTC(2026, 11, 7, 12, 0, 0))

const order: typeof OrderWithEvents.Type = {
  id: 12345,
  status: "paid",
  email: "someone@example.com",
  items: [
    { sku: "TEA-GREEN-250", quantity: 2, unitPriceCents: 1250 },
    { sku: "TEA-BLACK-500", quantity: 1, unitPriceCents: 999 }
  ],
  totalCents: 3499,
  trackingNumber: null,
  createdAt: now,
  updatedAt: now,
  events: [{ from: "pending", to: "paid", at: now }],
  carrier: { attempts: 0, shipmentId: null, lastError: null, failed: false }
}

const payload: typeof CreateOrder.Encoded = {
  email: " Someone@Example.com ",
  items: [{ sku: "TEA-GREEN-250", quantity: 2, unitPriceCents: 1250 }, {
    sku: "TEA-BLACK-500",
    quantity: 1,
    unitPriceCents: 999
  }]
}

const compiledOrThrow = (schema: Schema.Schema.AnyNoContext, isDecoding: boolean) => {
  const compiled = compile(schema.ast, isDecoding)
  if (compiled === undefined) throw new Error(`${String(schema)} is not compiled`)
  return compiled
}

const encodeOrder = compiledOrThrow(OrderWithEvents, false)
const decodeCreate = compiledOrThrow(CreateOrder, true)
const encodeOrderParse = Schema.encodeUnknownEither(OrderWithEvents)
const decodeCreateParse = Schema.decodeUnknownEither(CreateOrder)

// the figures only mean something if both paths give the same answer
for (
  const [name, compiled, parsed] of [
    ["encode", encodeOrder(order), encodeOrderParse(order)],
    ["decode", decodeCreate(payload), decodeCreateParse(payload)]
  ] as const
) {
  if (compiled === Fallback || parsed._tag === "Left" || JSON.stringify(compiled) !== JSON.stringify(parsed.right)) {
    throw new Error(`${name}: the compiled code and ParseResult disagree`)
  }
}

const encoded = encodeOrder(order)

const measure = (name: string, f: () => unknown, calls = 200_000) => {
  for (let i = 0; i < calls; i++) f()
  const rounds: Array<string> = []
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) f()
    rounds.push((Number(process.hrtime.bigint() - started) / calls / 1000).toFixed(2))
  }
  console.log(`${name.padEnd(42)} ${rounds.join("  ")} µs a call`)
}

measure("OrderWithEvents encode, compiled", () => encodeOrder(order))
measure("OrderWithEvents encode, ParseResult", () => encodeOrderParse(order), 50_000)
measure("JSON.stringify of the encoded order", () => JSON.stringify(encoded))
measure("CreateOrder decode, compiled", () => decodeCreate(payload))
measure("CreateOrder decode, ParseResult", () => decodeCreateParse(payload), 50_000)
