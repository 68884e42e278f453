/**
 * The no-database comparison: an item catalogue with a path parameter and a JSON body, checked by
 * schemas and answered from memory, so that every figure is the HTTP stack's alone. The same
 * contract is served four ways — `@shop/fast-httpapi` and the standard `HttpApiBuilder.serve`
 * (ItemsEffect), Fastify with JSON Schemas (ItemsFastify) and plain `node:http` (ItemsBare) — and
 * `test/items.test.ts` checks that they answer alike.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"

/** Items 1 to `catalogueSize` exist; a GET of any other id is a 404. */
export const catalogueSize = 10_000
export const maxNameLength = 100
export const maxPriceCents = 1_000_000
export const maxTags = 10
export const maxTagLength = 20

export interface ItemShape {
  readonly id: number
  readonly name: string
  readonly priceCents: number
  readonly tags: ReadonlyArray<string>
}

export const Item = Schema.Struct({
  id: Schema.Int,
  name: Schema.String,
  priceCents: Schema.Int,
  tags: Schema.Array(Schema.String)
})

export const NewItem = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(maxNameLength)),
  priceCents: Schema.Int.pipe(Schema.between(0, maxPriceCents)),
  tags: Schema.Array(Schema.String.pipe(Schema.maxLength(maxTagLength))).pipe(Schema.maxItems(maxTags))
})

export class ItemNotFound extends Schema.TaggedError<ItemNotFound>()(
  "ItemNotFound",
  { id: Schema.Int },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class ItemsApi extends HttpApi.make("items").add(
  HttpApiGroup.make("items")
    .add(
      HttpApiEndpoint.get("get", "/items/:id")
        .setPath(Schema.Struct({ id: Schema.NumberFromString.pipe(Schema.int(), Schema.positive()) }))
        .addSuccess(Item)
        .addError(ItemNotFound)
    )
    .add(HttpApiEndpoint.post("create", "/items").setPayload(NewItem).addSuccess(Item, { status: 201 }))
    .add(HttpApiEndpoint.get("ready", "/readyz").addSuccess(Schema.Struct({ status: Schema.Literal("ready") })))
) {}

/** The catalogue's item `id` (every stack computes the same one). */
export const itemOf = (id: number): ItemShape => ({
  id,
  name: `item ${id}`,
  priceCents: (id * 37) % 100_000,
  tags: ["bench", `group-${id % 10}`]
})

/** A created item: ids count up from past the catalogue, per process. */
export const creator = () => {
  let next = catalogueSize
  return (input: Omit<ItemShape, "id">): ItemShape => ({
    id: ++next,
    name: input.name,
    priceCents: input.priceCents,
    tags: input.tags
  })
}
