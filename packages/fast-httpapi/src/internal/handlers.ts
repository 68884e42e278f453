/**
 * How the fast server gets at the handlers: `FastHttpApi.group` builds the standard group (so the
 * standard handler, OpenAPI and clients are unchanged) and also leaves the handlers and the context
 * they were built in under a tag of their own, which `HttpApiBuilder.api` captures with the groups.
 *
 * @internal
 */
import type * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"

export interface CapturedGroup {
  readonly handlers: Chunk.Chunk<HttpApiBuilder.Handlers.Item<unknown, unknown>>
  /** The context the group was built in: its handlers run in it (merged with the server's). */
  readonly context: Context.Context<never>
}

const tags = new Map<string, Context.Tag<CapturedGroup, CapturedGroup>>()

export const tagFor = (apiId: string, groupName: string): Context.Tag<CapturedGroup, CapturedGroup> => {
  const key = `@shop/fast-httpapi/Handlers/${apiId}/${groupName}`
  let tag = tags.get(key)
  if (tag === undefined) {
    tag = Context.GenericTag<CapturedGroup>(key)
    tags.set(key, tag)
  }
  return tag
}
