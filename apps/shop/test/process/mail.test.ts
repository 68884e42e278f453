/**
 * The welcome e-mail survives a crash: it is an outbox row, so a SIGKILL between "201 Created" and
 * the mail server's acknowledgement leaves it for the next process, which delivers it exactly once.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { freshDatabase, pollUntil } from "./database.js"
import { killLeftovers, request, start, tempDir } from "./harness.js"
import { smtpServer } from "./smtp.js"

afterEach(killLeftovers)

const app = "shop-under-test"

interface OutboxRow {
  readonly id: string
  readonly recipient: string
  readonly sentAt: Date | null
  readonly attempts: number
  readonly lastError: string | null
}

describe("welcome e-mail of the real process", () => {
  it.scopedLive("SIGKILL after 201 while the mail server has not acknowledged: the restart delivers it once", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase({ migrate: false })
      const outbox = db.sql<OutboxRow>`SELECT id, recipient, sent_at, attempts, last_error FROM outbox`
      const env = {
        DATABASE_URL: db.urlFor(app),
        MAIL_DIR: yield* tempDir("shop-mail-"),
        OUTBOX_LEASE: "2 seconds",
        OUTBOX_SWEEP_INTERVAL: "200 millis"
      }

      const stuck = yield* smtpServer({ hold: true })
      const first = yield* start({ ...env, SMTP_URL: stuck.url })
      const signup = yield* request(first.port, "POST", "/v1/users", {
        name: "Grace Hopper",
        email: "grace@example.com",
        password: "correct horse battery"
      })
      assert.strictEqual(signup.status, 201, signup.body)
      // the whole message reached the server, which never answers the final "."
      const transferred = yield* Effect.timeoutFail(stuck.firstMessage, {
        duration: "10 seconds",
        onTimeout: () => new Error(`the first server received nothing: ${first.messages().join("\n")}`)
      })
      assert.deepStrictEqual(transferred.to, ["grace@example.com"])
      yield* first.kill("SIGKILL")
      assert.deepStrictEqual(yield* first.awaitExit(), { code: null, signal: "SIGKILL" })

      const [leftBehind] = yield* outbox
      assert.strictEqual(leftBehind.recipient, "grace@example.com")
      assert.isNull(leftBehind.sentAt)
      assert.strictEqual(leftBehind.attempts, 1)

      const working = yield* smtpServer({ hold: false })
      const second = yield* start({ ...env, SMTP_URL: working.url })
      const [sent] = yield* pollUntil(
        "the sweeper delivers the row once its lease expired",
        outbox,
        ([row]) => row.sentAt !== null
      )
      assert.strictEqual(sent.attempts, 2)
      assert.isNull(sent.lastError)
      // a graceful stop waits for anything still sending, so nothing can arrive after this
      yield* second.kill("SIGTERM")
      assert.deepStrictEqual(yield* second.awaitExit(), { code: 0, signal: null })

      const delivered = working.received()
      assert.strictEqual(delivered.length, 1)
      assert.deepStrictEqual(delivered[0].to, ["grace@example.com"])
      assert.include(delivered[0].data, "Subject: Welcome to the shop")
      assert.include(delivered[0].data, `Message-ID: <outbox-${sent.id}@shop>`)
      assert.include(delivered[0].data, "Hello Grace Hopper")
      assert.include(second.messages(), `outbox: swept 1 undelivered e-mail(s)`)
      assert.strictEqual(stuck.received().length, 1, "the first server saw one unacknowledged attempt")
    }))

  it.scopedLive("without SMTP_URL the welcome e-mail is an .eml file under MAIL_DIR", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase({ migrate: false })
      const mailDir = yield* tempDir("shop-mail-")
      const shop = yield* start({ DATABASE_URL: db.urlFor(app), MAIL_DIR: mailDir })
      const signup = yield* request(shop.port, "POST", "/v1/users", {
        name: "Ada Lovelace",
        email: "ada@example.com",
        password: "analytical engine"
      })
      assert.strictEqual(signup.status, 201, signup.body)
      const wrote = yield* shop.waitForLog(/^mail: wrote /)
      const file = wrote.message.slice("mail: wrote ".length)
      assert.strictEqual(Path.dirname(file), mailDir)
      const content = Fs.readFileSync(file, "utf8")
      assert.include(content, "To: ada@example.com\r\n")
      assert.include(content, "Subject: Welcome to the shop\r\n")
      assert.include(content, "Hello Ada Lovelace")
      assert.deepStrictEqual(Fs.readdirSync(mailDir), [Path.basename(file)])

      const [row] = yield* pollUntil(
        "the outbox row is marked sent",
        db.sql<{ sentAt: Date | null }>`SELECT sent_at FROM outbox`,
        ([row]) => row !== undefined && row.sentAt !== null
      )
      assert.isNotNull(row.sentAt)
      yield* shop.kill("SIGTERM")
      assert.deepStrictEqual(yield* shop.awaitExit(), { code: 0, signal: null })
    }))
})
