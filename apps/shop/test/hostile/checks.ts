/**
 * What every answer to hostile input must look like, the shared shop of a describe block, and the
 * property runner.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert } from "@effect/vitest"
import { GracefulHttp } from "@shop/lifecycle"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import { api } from "../layers.js"
import { raw, type RawResponse, request } from "./raw.js"

export class Shop extends Context.Tag("test/hostile/Shop")<Shop, {
  readonly port: number
  readonly baseUrl: string
  readonly sql: SqlClient.SqlClient
}>() {}

/** One API for a whole describe block (`layer(shopLayer())`), on its own fresh database. */
export const shopLayer = (settings: Record<string, string> = {}) =>
  Layer.effect(
    Shop,
    Effect.gen(function*() {
      const { port } = yield* GracefulHttp.GracefulHttp
      return { port, baseUrl: `http://127.0.0.1:${port}`, sql: yield* SqlClient.SqlClient }
    })
  ).pipe(Layer.provide(api(settings)))

/**
 * Cases per property: `numRuns` times `HOSTILE_RUNS_SCALE` (default 1; 10 for a long soak).
 * `HOSTILE_SEED=<n>` replays a run: fast-check prints the seed and the shrunk counterexample of a failure.
 */
const scale = Number(process.env.HOSTILE_RUNS_SCALE ?? 1)
const seed = process.env.HOSTILE_SEED === undefined ? {} : { seed: Number(process.env.HOSTILE_SEED) }

/**
 * `fc.assert` over an Effect-returning predicate; the cases run one after the other, `examples`
 * (cases that must always be tried) first.
 */
export const forAll = <A, R>(
  arbitrary: fc.Arbitrary<A>,
  predicate: (value: A) => Effect.Effect<void, never, R>,
  numRuns: number,
  examples: ReadonlyArray<A> = []
): Effect.Effect<void, never, R> =>
  Effect.flatMap(Effect.runtime<R>(), (runtime) =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(arbitrary, async (value) => {
          const exit = await Runtime.runPromiseExit(runtime)(predicate(value))
          // the assertion error itself (or fc.pre's skip), not a FiberFailure around it
          if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
        }),
        { numRuns: Math.max(1, Math.round(numRuns * scale)), examples: examples.map((e) => [e]), ...seed }
      )
    ))

const stackTrace = /\bat .*\.(ts|js|mjs|cjs):\d+|node_modules|\n\s+at /

export interface ErrorBody {
  readonly _tag: string
  readonly message: string
  readonly [key: string]: unknown
}

/**
 * A 4xx whose body is JSON with a `_tag` and a `message`, and no stack trace; optionally with the
 * given status(es) and tag(s).
 */
export const assertRejected = (
  response: RawResponse,
  label: string,
  expected: { readonly status?: number | ReadonlyArray<number>; readonly tag?: string | ReadonlyArray<string> } = {}
): ErrorBody => {
  const said = `${label}\n  -> ${response.status} ${JSON.stringify(response.headers)} ${response.body.slice(0, 500)}`
  assert.isTrue(response.status >= 400 && response.status < 500, `expected a 4xx: ${said}`)
  assert.match(response.headers["content-type"] ?? "", /^application\/json/, `expected a JSON body: ${said}`)
  let body: ErrorBody
  try {
    body = JSON.parse(response.body)
  } catch {
    return assert.fail(`the body is not JSON: ${said}`)
  }
  assert.isString(body._tag, `the body has a _tag: ${said}`)
  assert.isString(body.message, `the body has a message: ${said}`)
  assert.notMatch(response.body, stackTrace, `no stack trace on the wire: ${said}`)
  if (expected.status !== undefined) {
    assert.include([expected.status].flat(), response.status, `status: ${said}`)
  }
  if (expected.tag !== undefined) assert.include([expected.tag].flat(), body._tag, `_tag: ${said}`)
  return body
}

export interface RowCounts {
  readonly users: number
  readonly outbox: number
  readonly orders: number
  readonly items: number
  readonly events: number
}

export const rowCounts: Effect.Effect<RowCounts, never, Shop> = Effect.flatMap(
  Shop,
  ({ sql }) =>
    sql<Record<keyof RowCounts, string>>`
    SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM outbox) AS outbox,
           (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_items) AS items,
           (SELECT count(*) FROM order_events) AS events`.pipe(
      Effect.map(([row]) => ({
        users: Number(row.users),
        outbox: Number(row.outbox),
        orders: Number(row.orders),
        items: Number(row.items),
        events: Number(row.events)
      })),
      Effect.orDie
    )
)

/** The database has no rows a request could have written. */
export const assertNothingWritten = Effect.map(
  rowCounts,
  (counts) =>
    assert.deepStrictEqual(counts, { users: 0, outbox: 0, orders: 0, items: 0, events: 0 }, "nothing was written")
)

/** The shop still answers, promptly: `/healthz` and `/readyz` (which asks the database). */
export const assertHealthy = Effect.gen(function*() {
  const { port } = yield* Shop
  for (const path of ["/healthz", "/readyz"]) {
    const response = yield* raw(port, request("GET", path), { timeoutMs: 5_000 })
    assert.strictEqual(response.status, 200, `${path} after the storm: ${response.status} ${response.body}`)
  }
})
