import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { AddressInfo } from "node:net"
import { SMTPServer } from "smtp-server"
import { Mailer } from "../src/Mailer.js"

/** A real SMTP server on an ephemeral port that records what it receives. */
const smtpServer = Effect.acquireRelease(
  Effect.async<{ port: number; received: Deferred.Deferred<string> }>((resume) => {
    const received = Deferred.unsafeMake<string>(undefined as never)
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, _session, callback) {
        let data = ""
        stream.on("data", (chunk) => (data += chunk))
        stream.on("end", () => {
          Deferred.unsafeDone(received, Effect.succeed(data))
          callback()
        })
      }
    })
    server.listen(
      0,
      "127.0.0.1",
      () => resume(Effect.succeed({ port: (server.server.address() as AddressInfo).port, received, server }))
    )
  }).pipe(Effect.map((s) => s as typeof s & { server?: SMTPServer })),
  (s) => Effect.promise(() => new Promise<void>((resolve) => (s as any).server.close(() => resolve())))
)

describe("Mailer over SMTP", () => {
  it.scopedLive("delivers through a real SMTP server with a stable Message-ID", () =>
    Effect.gen(function*() {
      const { port, received } = yield* smtpServer
      const mailer = yield* Mailer.pipe(
        Effect.provide(Mailer.layerSmtp(Redacted.make(`smtp://127.0.0.1:${port}`), "shop@localhost"))
      )
      yield* mailer.send({ to: "ada@example.com", subject: "Welcome", text: "Hello Ada", messageId: "outbox-1@shop" })
      const data = yield* Deferred.await(received)
      assert.match(data, /To: ada@example.com/)
      assert.match(data, /Subject: Welcome/)
      assert.match(data, /Message-ID: <outbox-1@shop>/)
      assert.match(data, /Hello Ada/)
    }))

  it.scopedLive("an unreachable server is a MailError (retried later), not a crash", () =>
    Effect.gen(function*() {
      const mailer = yield* Mailer.pipe(
        Effect.provide(Mailer.layerSmtp(Redacted.make("smtp://127.0.0.1:1"), "shop@localhost"))
      )
      const error = yield* Effect.flip(
        mailer.send({ to: "a@example.com", subject: "s", text: "t", messageId: "x@shop" })
      )
      assert.strictEqual(error._tag, "MailError")
      assert.match(error.message, /SMTP delivery to a@example.com failed/)
    }))
})
