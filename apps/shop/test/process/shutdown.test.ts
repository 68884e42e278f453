/**
 * Graceful shutdown of the real process (`node apps/shop/dist/main.js`) under real SIGTERMs, with
 * work made slow by locks the test holds in PostgreSQL — so "in flight" is a database fact
 * (`pg_stat_activity`, `pg_locks`), not a guess about timing.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import {
  eventCounts,
  freshDatabase,
  holdLock,
  insertPaidOrders,
  insertPendingOrder,
  pollUntil,
  sessionsWaitingOnLock,
  statusCounts,
  waitingOnTable
} from "./database.js"
import { assertInOrder, killLeftovers, request, start, tempDir, tryConnect } from "./harness.js"

afterEach(killLeftovers)

const app = "shop-under-test"

/**
 * A running shop with one pending order whose `POST /v1/orders/:id/pay` is in flight and blocked
 * on the order's row lock, held by the test until `lock.release`.
 */
const slowPayRequest = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const db = yield* freshDatabase({ migrate: true })
    const orderId = yield* insertPendingOrder(db.sql)
    const shop = yield* start({ DATABASE_URL: db.urlFor(app), MAIL_DIR: yield* tempDir("shop-mail-"), ...env })
    const lock = yield* holdLock(db.sql, db.sql`SELECT id FROM orders WHERE id = ${orderId} FOR UPDATE`)
    const pay = yield* Effect.fork(Effect.either(request(shop.port, "POST", `/v1/orders/${orderId}/pay`)))
    yield* pollUntil("the pay request waits for the row lock", sessionsWaitingOnLock(db.sql, app), (n) => n === 1)
    const orderStatus = Effect.map(
      db.sql<{ status: string }>`SELECT status FROM orders WHERE id = ${orderId}`,
      ([row]) => row.status
    )
    return { db, shop, lock, pay, orderStatus }
  })

describe("shutdown of the real process", () => {
  it.scopedLive("SIGTERM with a request in flight: readyz 503, listener closed, request completes, ordered exit 0", () =>
    Effect.gen(function*() {
      const { db, lock, orderStatus, pay, shop } = yield* slowPayRequest({ SHUTDOWN_DELAY: "1 second" })

      yield* shop.kill("SIGTERM")
      yield* shop.waitForLog("shutdown: draining (SIGTERM received)")
      // inside the 1 s pre-stop delay: still serving, but not ready
      const ready = yield* request(shop.port, "GET", "/readyz")
      assert.strictEqual(ready.status, 503)
      assert.strictEqual(ready.json._tag, "NotReady")
      assert.strictEqual(ready.json.phase, "draining")
      assert.strictEqual(ready.headers.connection, "close")

      yield* shop.waitForLog("http: closed listener, waiting for 1 in-flight request(s)")
      // the line is logged just before server.close(): poll (bounded) rather than race it
      yield* pollUntil(
        "new connections are refused",
        tryConnect(shop.port),
        (result) => result === "refused",
        "2 seconds"
      )
      assert.strictEqual(yield* sessionsWaitingOnLock(db.sql, app), 1, "the pay request still waits")

      yield* lock.release
      const paid = yield* Fiber.join(pay)
      assert.isTrue(paid._tag === "Right", `pay failed: ${JSON.stringify(paid)}`)
      if (paid._tag === "Right") {
        assert.strictEqual(paid.right.status, 200)
        assert.strictEqual(paid.right.json.status, "paid")
        assert.strictEqual(paid.right.headers.connection, "close")
      }
      const exit = yield* shop.awaitExit()
      assert.deepStrictEqual(exit, { code: 0, signal: null })
      assert.strictEqual(yield* orderStatus, "paid")

      assertInOrder(shop.messages(), [
        "shutdown: SIGTERM received",
        "shutdown: draining (SIGTERM received)",
        "http: draining, still serving for 1s",
        "http: closed listener, waiting for 1 in-flight request(s)",
        "shutdown: http drain done",
        "shutdown: phase draining took",
        "shutdown: stopping",
        "shutdown: worker fulfillment done",
        "shutdown: background tasks done",
        "shutdown: closing the database pool (last)",
        "shutdown: phase stopping took",
        "shutdown complete"
      ])
      assert.deepStrictEqual(shop.logs().filter((line) => line.logLevel !== "INFO"), [])
    }))

  it.scopedLive("SIGTERM in the middle of a fulfillment tick: the tick commits whole, no tick after it", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase({ migrate: true })
      const orders = yield* insertPaidOrders(db.sql, 50)
      // the tick's INSERT INTO order_events needs ROW EXCLUSIVE, which EXCLUSIVE blocks
      const lock = yield* holdLock(db.sql, db.sql`LOCK TABLE order_events IN EXCLUSIVE MODE`)
      const shop = yield* start({
        DATABASE_URL: db.urlFor(app),
        MAIL_DIR: yield* tempDir("shop-mail-"),
        FULFILLMENT_INTERVAL: "200 millis",
        FULFILLMENT_BATCH: "100"
      })
      yield* pollUntil(
        "the first tick waits for order_events",
        waitingOnTable(db.sql, "order_events", app),
        (n) => n === 1
      )

      yield* shop.kill("SIGTERM")
      const draining = yield* shop.waitForLog("shutdown: draining (SIGTERM received)")
      // HTTP is drained and the other worker stopped: shutdown now waits for this tick alone
      yield* shop.waitForLog("shutdown: worker outbox-sweeper done")
      // Not a handshake: keep the drain going for several intervals, so a loop that ticked on a
      // timer (rather than at tick boundaries while running) would get its chance to tick again.
      yield* Effect.sleep(Math.max(0, Date.parse(draining.timestamp) + 700 - Date.now()))
      assert.strictEqual(yield* waitingOnTable(db.sql, "order_events", app), 1, "the tick still waits")
      assert.deepStrictEqual(yield* statusCounts(db.sql), { paid: orders.length })

      yield* lock.release
      const exit = yield* shop.awaitExit()
      assert.deepStrictEqual(exit, { code: 0, signal: null })
      assert.deepStrictEqual(yield* statusCounts(db.sql), { picking: orders.length })
      assert.deepStrictEqual(yield* eventCounts(db.sql), {
        "pending->paid": orders.length,
        "paid->picking": orders.length
      })
      assertInOrder(shop.messages(), [
        "shutdown: draining (SIGTERM received)",
        "shutdown: worker outbox-sweeper done",
        "shutdown: worker fulfillment done",
        "shutdown complete"
      ])
      const complete = yield* shop.waitForLog("shutdown complete")
      assert.isAbove(
        Date.parse(complete.timestamp) - Date.parse(draining.timestamp),
        3 * 200,
        "the drain outlasted 3 intervals"
      )
      assert.deepStrictEqual(shop.logs().filter((line) => line.logLevel !== "INFO"), [])
    }))

  it.scopedLive("a second SIGTERM during a slow shutdown exits at once with 143 and says so", () =>
    Effect.gen(function*() {
      const { db, lock, orderStatus, pay, shop } = yield* slowPayRequest({ HTTP_DRAIN_TIMEOUT: "60 seconds" })

      yield* shop.kill("SIGTERM")
      yield* shop.waitForLog("shutdown: draining (SIGTERM received)")
      yield* shop.waitForLog("http: closed listener, waiting for 1 in-flight request(s)")
      yield* shop.kill("SIGTERM")
      const exit = yield* shop.awaitExit("3 seconds")
      assert.deepStrictEqual(exit, { code: 143, signal: null })
      const line = yield* shop.waitForLog("second signal (SIGTERM), exiting at once")
      assert.match(line.message, /abandoned: http drain \(1 request\(s\) in flight\)$/)
      assert.strictEqual(line.logLevel, "ERROR")
      const paid = yield* Fiber.join(pay)
      assert.strictEqual(paid._tag, "Left", "the abandoned request gets no answer")

      // The pay is one statement, already sent when the process exited: once the lock is released it
      // runs whole, or not at all — never half a transition. Its client got no answer, so for the
      // client the outcome is unknown (a retry would get its 409), as after any cut connection.
      yield* lock.release
      yield* pollUntil(
        "the dead process's sessions end",
        db.sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${app}`,
        ([row]) => row.n === 0
      )
      assert.strictEqual(yield* orderStatus, "paid")
      assert.deepStrictEqual(yield* eventCounts(db.sql), { "pending->paid": 1 })
    }))

  it.scopedLive("past SHUTDOWN_TIMEOUT it exits 1 naming what it abandoned", () =>
    Effect.gen(function*() {
      const { lock, pay, shop } = yield* slowPayRequest({
        SHUTDOWN_TIMEOUT: "1 second",
        HTTP_DRAIN_TIMEOUT: "30 seconds"
      })

      yield* shop.kill("SIGTERM")
      const exit = yield* shop.awaitExit("5 seconds")
      assert.deepStrictEqual(exit, { code: 1, signal: null })
      const line = yield* shop.waitForLog("shutdown: deadline of 1s exceeded")
      assert.strictEqual(
        line.message,
        "shutdown: deadline of 1s exceeded; abandoned: http drain (1 request(s) in flight)"
      )
      assert.strictEqual((yield* Fiber.join(pay))._tag, "Left")
      assert.isFalse(shop.messages().some((message) => message.startsWith("shutdown complete")))
      yield* lock.release
    }))
})
