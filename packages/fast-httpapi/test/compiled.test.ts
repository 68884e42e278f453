import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { compile, Fallback, withCompiled } from "../src/internal/compiled.js"

// The shapes a JSON API answers with and accepts: the shop's contract has each of these.
const Sku = Schema.String.pipe(Schema.pattern(/^[A-Z0-9-]{1,32}$/), Schema.brand("Sku"))
const Status = Schema.Literal("pending", "paid", "packed", "cancelled")
const Line = Schema.Struct({
  sku: Sku,
  quantity: Schema.Int.pipe(Schema.between(1, 1000)),
  unitPriceCents: Schema.NonNegativeInt
})
const Order = Schema.Struct({
  id: Schema.Int.pipe(Schema.positive()),
  status: Status,
  email: Schema.String.pipe(Schema.pattern(/^[^@\s]+@[^@\s]+$/)),
  items: Schema.Array(Line),
  trackingNumber: Schema.NullOr(Schema.String),
  note: Schema.optional(Schema.String),
  paid: Schema.Boolean,
  createdAt: Schema.DateTimeUtc,
  events: Schema.Array(Schema.Struct({ from: Status, to: Status, at: Schema.DateTimeUtc }))
})
const CreateOrder = Schema.Struct({
  email: Schema.Trim.pipe(Schema.compose(Schema.Lowercase), Schema.minLength(3)),
  items: Schema.Array(Line).pipe(Schema.minItems(1), Schema.maxItems(5))
})
const OrderPath = Schema.Struct({ id: Schema.NumberFromString.pipe(Schema.int(), Schema.positive()) })
class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { id: Schema.Number, message: Schema.String }) {}
class Item extends Schema.Class<Item>("Item")({ name: Schema.NonEmptyString, tags: Schema.Array(Schema.String) }) {}

// Keys that a struct's generated code must treat as data: quotes, escapes, line separators, integer-like
// keys (which objects order first), keys of Object.prototype, and text that would be code if pasted in.
const OddNames = Schema.Struct({
  "a\"b": Schema.String,
  "back\\slash": Schema.Number,
  "line\nbreak\u2028": Schema.Boolean,
  constructor: Schema.String,
  toString: Schema.NullOr(Schema.Number),
  "10": Schema.String,
  "2": Schema.Number,
  "é ü 🙂": Schema.String,
  "x }; throw new Error('injected'); ({": Schema.String,
  "": Schema.Literal("empty key")
})

const schemas = { Order, CreateOrder, OrderPath, NotFound, Item, OddNames } as const

const parse = (schema: Schema.Schema.Any, isDecoding: boolean) =>
  (isDecoding ? Schema.decodeUnknownEither : Schema.encodeUnknownEither)(schema as Schema.Schema<unknown, unknown>)

/**
 * The compiled parser agrees with ParseResult's on `input`: the same value when it gives one (also as
 * JSON, so key order too), and `Fallback` exactly where ParseResult fails.
 */
const agrees = (schema: Schema.Schema.Any, isDecoding: boolean, input: unknown) => {
  const compiled = compile(schema.ast, isDecoding)
  assert.isDefined(compiled)
  const generic = parse(schema, isDecoding)(input)
  const output = compiled!(input)
  if (output === Fallback) {
    assert.isTrue(Either.isLeft(generic), "fell back on a value ParseResult takes")
    return
  }
  assert.isTrue(Either.isRight(generic), "took a value ParseResult refuses")
  const right = (generic as Either.Right<unknown, unknown>).right
  assert.deepStrictEqual(output, right)
  assert.strictEqual(JSON.stringify(output), JSON.stringify(right))
}

/** A value with one part replaced by something else, so that most of them are almost valid. */
const mutated = <A>(valid: FastCheck.Arbitrary<A>) =>
  FastCheck.tuple(valid, FastCheck.anything(), FastCheck.nat()).map(([value, junk, pick]) => {
    const mutate = (node: unknown, depth: number): unknown => {
      if (typeof node !== "object" || node === null || depth > 3) return junk
      const keys = Object.keys(node)
      if (keys.length === 0) return junk
      const key = keys[pick % keys.length]
      const copy: any = Array.isArray(node) ? [...node] : { ...node }
      copy[key] = pick % 3 === 0 ? junk : mutate(copy[key], depth + 1)
      if (pick % 7 === 0) delete copy[key]
      if (pick % 5 === 0 && !Array.isArray(node)) copy.unexpected = junk
      return copy
    }
    return mutate(value, 0)
  })

describe("compiled schemas", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    const types = Arbitrary.make(schema as Schema.Schema<unknown, unknown>)
    const encodedValues = Arbitrary.make(Schema.encodedSchema(schema as Schema.Schema<unknown, unknown>))

    it(`${name}: encodes every valid value as ParseResult does, without falling back`, () =>
      FastCheck.assert(FastCheck.property(types, (value) => agrees(schema, false, value)), { numRuns: 300 }))

    it(`${name}: decodes as ParseResult does, and falls back on exactly what it refuses`, () =>
      FastCheck.assert(
        FastCheck.property(
          FastCheck.oneof(encodedValues, mutated(encodedValues), FastCheck.anything()),
          (input) => agrees(schema, true, input)
        ),
        { numRuns: 500 }
      ))

    it(`${name}: never encodes what ParseResult refuses, nor differently`, () =>
      FastCheck.assert(
        FastCheck.property(FastCheck.oneof(mutated(types), FastCheck.anything()), (input) =>
          agrees(schema, false, input)),
        { numRuns: 500 }
      ))
  }

  it("a value from the wire: the same Order, and the same JSON, whichever parser encoded it", () => {
    const order = Order.make({
      id: 7,
      status: "paid",
      email: "a@b.example",
      items: [{ sku: Sku.make("SKU-1"), quantity: 2, unitPriceCents: 1250 }],
      trackingNumber: null,
      paid: true,
      createdAt: DateTime.unsafeMake(0),
      events: [{ from: "pending", to: "paid", at: DateTime.unsafeMake(1_000) }]
    })
    const encode = withCompiled(Order.ast, false, parse(Order, false))
    assert.deepStrictEqual(encode(order), parse(Order, false)(order))
    assert.strictEqual(
      JSON.stringify(Either.getOrThrow(encode(order))),
      `{"id":7,"status":"paid","email":"a@b.example","items":[{"sku":"SKU-1","quantity":2,"unitPriceCents":1250}],` +
        `"trackingNumber":null,"paid":true,"createdAt":"1970-01-01T00:00:00.000Z",` +
        `"events":[{"from":"pending","to":"paid","at":"1970-01-01T00:00:01.000Z"}]}`
    )
  })

  it("a failure is ParseResult's own error, message and all", () => {
    const decode = withCompiled(CreateOrder.ast, true, parse(CreateOrder, true))
    const input = { email: " Ab@C.example ", items: [{ sku: "bad sku", quantity: 1, unitPriceCents: 1 }] }
    assert.deepStrictEqual(decode(input), parse(CreateOrder, true)(input))
    assert.isTrue(Either.isLeft(decode(input)))
  })

  it("where code generation is disallowed, a struct is compiled all the same, to the loop over its fields", () => {
    const { Function: GlobalFunction } = globalThis
    const refused: Array<string> = []
    globalThis.Function = function() {
      refused.push("new Function")
      throw new EvalError("Code generation from strings disallowed for this context")
    } as unknown as FunctionConstructor
    let compiled: ReturnType<typeof compile>
    try {
      compiled = compile(Line.ast, false)
    } finally {
      globalThis.Function = GlobalFunction
    }
    assert.deepStrictEqual(refused, ["new Function"])
    const line = { sku: Sku.make("SKU-1"), quantity: 2, unitPriceCents: 1250, extra: true }
    assert.strictEqual(JSON.stringify(compiled!(line)), `{"sku":"SKU-1","quantity":2,"unitPriceCents":1250}`)
    assert.strictEqual(compiled!({ ...line, quantity: 0 }), Fallback)
  })

  it("a schema with a part it does not know is left to ParseResult entirely", () => {
    interface Tree {
      readonly children: ReadonlyArray<Tree>
    }
    const Tree: Schema.Schema<Tree> = Schema.Struct({ children: Schema.Array(Schema.suspend(() => Tree)) })
    const Templated = Schema.TemplateLiteral("order-", Schema.Number)
    assert.isUndefined(compile(Tree.ast, true))
    assert.isUndefined(compile(Templated.ast, false))
    const generic = parse(Tree, true)
    assert.strictEqual(withCompiled(Tree.ast, true, generic), generic)
  })
})
