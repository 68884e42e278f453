/**
 * Every error the contract declares, as the running server sends it, decodes with the contract's own
 * schema through `HttpApiClient`: what another team's typed client sees. Requests the typed client
 * would never send (broken JSON, a wrong body, a body over the limit) go through the same client with
 * the request body replaced on the way out.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpApiError from "@effect/platform/HttpApiError"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { TestDatabase } from "@shop/database/testing"
import { ShopApi } from "@shop/domain/Api"
import {
  BookingNotFailed,
  EmailTaken,
  IdempotencyConflict,
  InvalidTransition,
  MalformedJson,
  NotReady,
  OrderNotFound,
  PayloadTooLarge,
  ServiceUnavailable
} from "@shop/domain/Errors"
import { Lifecycle } from "@shop/lifecycle"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { anOrder } from "./fixtures.js"
import { api, ApiClient } from "./layers.js"

/** A typed client whose requests leave with `body` as their JSON body instead. */
const clientSending = (baseUrl: string, body: string) =>
  HttpApiClient.make(ShopApi, {
    baseUrl,
    transformClient: HttpClient.mapRequest((request) => HttpClientRequest.bodyText(request, body, "application/json"))
  })

const signUp = { name: "Grace Hopper", email: "grace@example.com", password: Redacted.make("hunter2hunter2") }

describe("the contract's errors, decoded by HttpApiClient from the running server", () => {
  it.scopedLive("400, 404, 409, 413, 422 and the readiness 503", () =>
    Effect.gen(function*() {
      const client = yield* ApiClient
      const { baseUrl } = client

      // 400: a body that is not JSON, and JSON that is not an order
      const malformed = yield* Effect.flip((yield* clientSending(baseUrl, "{\"email\": ")).orders.create({
        payload: anOrder(),
        headers: {}
      }))
      assert.instanceOf(malformed, MalformedJson)
      assert.match(malformed.message, /not valid JSON/)
      const invalid = yield* Effect.flip((yield* clientSending(baseUrl, "{\"email\":1}")).orders.create({
        payload: anOrder(),
        headers: {}
      }))
      assert.instanceOf(invalid, HttpApiError.HttpApiDecodeError)
      assert.isAbove(invalid.issues.length, 0)

      // 413: names the limit
      const tooLarge = yield* Effect.flip(
        (yield* clientSending(baseUrl, JSON.stringify({ ...anOrder(), pad: "x".repeat(1024 * 1024) }))).orders.create({
          payload: anOrder(),
          headers: {}
        })
      )
      assert.instanceOf(tooLarge, PayloadTooLarge)
      assert.strictEqual(tooLarge.maxBytes, 1024 * 1024)

      // 404
      const missing = yield* Effect.flip(client.orders.get({ path: { id: 999_999 } }))
      assert.instanceOf(missing, OrderNotFound)
      assert.strictEqual(missing.id, 999_999)

      // 409: a taken e-mail, an illegal transition, a booking that has not failed
      yield* client.users.create({ payload: signUp })
      const taken = yield* Effect.flip(client.users.create({ payload: signUp }))
      assert.instanceOf(taken, EmailTaken)
      assert.strictEqual(taken.email, "grace@example.com")
      const order = yield* client.orders.create({ payload: anOrder(), headers: { "idempotency-key": "k-1" } })
      yield* client.orders.pay({ path: { id: order.id } })
      const again = yield* Effect.flip(client.orders.pay({ path: { id: order.id } }))
      assert.instanceOf(again, InvalidTransition)
      assert.deepInclude(again, { id: order.id, status: "paid", attempted: "paid" })
      const notFailed = yield* Effect.flip(client.orders.retryBooking({ path: { id: order.id } }))
      assert.instanceOf(notFailed, BookingNotFailed)
      assert.strictEqual(notFailed.status, "paid")

      // 422: the same key with another body
      const conflict = yield* Effect.flip(
        client.orders.create({ payload: anOrder("bob@example.com"), headers: { "idempotency-key": "k-1" } })
      )
      assert.instanceOf(conflict, IdempotencyConflict)
      assert.strictEqual(conflict.key, "k-1")

      // 503 from /readyz while draining
      yield* Effect.flatMap(Lifecycle.Lifecycle, (lifecycle) => lifecycle.beginDrain("test: draining"))
      const notReady = yield* Effect.flip(client.ops.ready())
      assert.instanceOf(notReady, NotReady)
      assert.strictEqual(notReady.phase, "draining")
    }).pipe(Effect.provide([api(), FetchHttpClient.layer])))

  it.scopedLive("503 when the database pool has no connection to give", () =>
    Effect.gen(function*() {
      const client = yield* ApiClient
      const release = yield* TestDatabase.holdConnection(yield* SqlClient.SqlClient)
      const busy = yield* Effect.flip(client.orders.get({ path: { id: 1 } }))
      assert.instanceOf(busy, ServiceUnavailable)
      assert.match(busy.message, /retry/)
      yield* release
    }).pipe(Effect.scoped, Effect.provide(api({ DATABASE_POOL_SIZE: "1", DATABASE_CONNECT_TIMEOUT: "300 millis" }))))
})
