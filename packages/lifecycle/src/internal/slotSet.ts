/**
 * A set for objects that come and go all the time (a server's responses in flight), without the
 * garbage a `Set` makes of that. A long-lived `Set` lives in V8's old generation, and so does every
 * hash table it re-allocates as entries are added and deleted: at a few thousand requests a second
 * the shop's old generation grew by megabytes a second of dead tables until a full GC, which is most
 * of its peak RSS under load (apps/bench/README.md, "RSS"). Here an entry is a slot in an array and
 * the object keeps its slot number in a symbol property: adding and deleting write two fields and
 * allocate nothing once the array has grown to the largest number in flight.
 *
 * @internal
 */
export class SlotSet<A extends object> implements Iterable<A> {
  private readonly slot = Symbol("slot")
  private readonly entries: Array<A | undefined> = []
  private readonly free: Array<number> = []
  private count = 0

  get size(): number {
    return this.count
  }

  add(value: A): void {
    const held = value as unknown as Record<symbol, number | undefined>
    if (held[this.slot] !== undefined) return
    const index = this.free.length > 0 ? this.free.pop()! : this.entries.length
    this.entries[index] = value
    held[this.slot] = index
    this.count++
  }

  delete(value: A): boolean {
    const held = value as unknown as Record<symbol, number | undefined>
    const index = held[this.slot]
    if (index === undefined) return false
    this.entries[index] = undefined
    held[this.slot] = undefined
    this.free.push(index)
    this.count--
    return true
  }

  has(value: A): boolean {
    return (value as unknown as Record<symbol, number | undefined>)[this.slot] !== undefined
  }

  *[Symbol.iterator](): Iterator<A> {
    for (const value of this.entries) if (value !== undefined) yield value
  }
}
