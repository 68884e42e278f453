import { assert, describe, it } from "@effect/vitest"
import { SlotSet } from "../src/internal/slotSet.js"

describe("SlotSet", () => {
  it("holds what was added and not deleted, once each, and reuses freed slots", () => {
    const set = new SlotSet<{ readonly name: string }>()
    const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => ({ name }))
    set.add(a)
    set.add(b)
    set.add(b)
    set.add(c)
    assert.strictEqual(set.size, 3)
    assert.isTrue(set.delete(b))
    assert.isFalse(set.delete(b))
    assert.isFalse(set.delete(d))
    assert.isFalse(set.has(b))
    assert.strictEqual(set.size, 2)
    assert.deepStrictEqual([...set].map((x) => x.name), ["a", "c"])
    set.add(d) // in b's slot
    set.add(b)
    assert.deepStrictEqual([...set].map((x) => x.name), ["a", "d", "c", "b"])
    assert.strictEqual(set.size, 4)
    for (const x of [a, b, c, d]) set.delete(x)
    assert.strictEqual(set.size, 0)
    assert.deepStrictEqual([...set], [])
  })

  it("two sets hold the same object independently", () => {
    const one = new SlotSet<object>()
    const two = new SlotSet<object>()
    const x = {}
    one.add(x)
    assert.isFalse(two.has(x))
    two.add(x)
    one.delete(x)
    assert.isTrue(two.has(x))
    assert.strictEqual(two.size, 1)
    assert.strictEqual(one.size, 0)
  })
})
