/**
 * A local SMTP server (no TLS, no auth) that records what it receives. With `hold: true` it takes
 * the whole message but never answers the final "." — the sender is stuck mid-delivery, the way a
 * slow or dead mail relay leaves it — until `release`.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { AddressInfo } from "node:net"
import { SMTPServer } from "smtp-server"

export interface Received {
  readonly from: string | undefined
  readonly to: ReadonlyArray<string>
  readonly data: string
}

export const smtpServer = (options: { readonly hold: boolean }) =>
  Effect.gen(function*() {
    const received: Array<Received> = []
    const firstMessage = yield* Deferred.make<Received>()
    const held = new Set<() => void>()
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["AUTH", "STARTTLS"],
      logger: false,
      closeTimeout: 1000,
      onData(stream, session, callback) {
        let data = ""
        stream.setEncoding("utf8")
        stream.on("data", (chunk: string) => (data += chunk))
        stream.on("end", () => {
          const message: Received = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            data
          }
          received.push(message)
          Deferred.unsafeDone(firstMessage, Effect.succeed(message))
          if (options.hold) held.add(() => callback())
          else callback()
        })
      }
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.server.address() as AddressInfo).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          held.forEach((release) => release())
          server.close(() => resume(Effect.void))
        })
    )
    return {
      port,
      url: `smtp://127.0.0.1:${port}`,
      received: () => received.slice(),
      /** The first message, once its last byte arrived (a held server has not acknowledged it). */
      firstMessage: Deferred.await(firstMessage),
      release: Effect.sync(() => held.forEach((release) => release()))
    }
  })
