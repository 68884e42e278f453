/**
 * Sends e-mail. By default each message is written as an `.eml` file under `MAIL_DIR` (a log line
 * names it), so development needs no mail server; with `SMTP_URL` it goes through SMTP (nodemailer).
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import type * as Nodemailer from "nodemailer"
import { ShopConfig } from "./ShopConfig.js"

export interface Mail {
  readonly to: string
  readonly subject: string
  readonly text: string
  /** Stable per logical message: lets a receiving system recognise a re-sent duplicate. */
  readonly messageId: string
}

export class MailError extends Data.TaggedError("MailError")<{ readonly message: string; readonly cause?: unknown }> {}

export class Mailer extends Context.Tag("shop/Mailer")<Mailer, {
  readonly send: (mail: Mail) => Effect.Effect<void, MailError>
}>() {
  static readonly layerFiles = (dir: string, from: string) =>
    Layer.succeed(Mailer, {
      send: Effect.fn("Mailer.send")(function*(mail: Mail) {
        const file = Path.resolve(dir, `${mail.messageId.replace(/[^\w.-]/g, "_")}.eml`)
        const content = [
          `From: ${from}`,
          `To: ${mail.to}`,
          `Subject: ${mail.subject}`,
          `Message-ID: <${mail.messageId}>`,
          `Date: ${new Date().toUTCString()}`,
          "Content-Type: text/plain; charset=utf-8",
          "",
          mail.text
        ].join("\r\n")
        yield* Effect.tryPromise({
          try: async () => {
            await Fs.mkdir(dir, { recursive: true })
            await Fs.writeFile(file, content)
          },
          catch: (cause) => new MailError({ message: `cannot write ${file}`, cause })
        })
        yield* Effect.log(`mail: wrote ${file}`)
      })
    })

  static readonly layerSmtp = (url: Redacted.Redacted<string>, from: string) =>
    Layer.scoped(
      Mailer,
      Effect.gen(function*() {
        // loaded only when SMTP is configured: nodemailer is ~3 MB of heap for the process's life,
        // and every MB live at start-up costs about four of peak RSS (apps/shop/README.md, "Memory")
        const nodemailer: typeof Nodemailer = yield* Effect.promise(() => import("nodemailer"))
        const transport = yield* Effect.acquireRelease(
          Effect.sync(() =>
            nodemailer.createTransport(Redacted.value(url), {
              // Bounded, so a stuck server fails the attempt (retried later) instead of hanging it.
              connectionTimeout: 10_000,
              greetingTimeout: 10_000,
              socketTimeout: 30_000
            } as Nodemailer.TransportOptions)
          ),
          (transport) => Effect.sync(() => transport.close())
        )
        return {
          send: Effect.fn("Mailer.send")(function*(mail: Mail) {
            yield* Effect.tryPromise({
              try: () =>
                transport.sendMail({
                  from,
                  to: mail.to,
                  subject: mail.subject,
                  text: mail.text,
                  messageId: `<${mail.messageId}>`
                }),
              catch: (cause) =>
                new MailError({ message: `SMTP delivery to ${mail.to} failed: ${String(cause)}`, cause })
            })
            yield* Effect.log(`mail: sent ${mail.messageId} to ${mail.to} over SMTP`)
          })
        }
      })
    )

  /** SMTP when `SMTP_URL` is set, else `.eml` files under `MAIL_DIR`. */
  static readonly layer = Layer.unwrapEffect(Effect.map(ShopConfig, (config) =>
    Option.match(config.smtpUrl, {
      onNone: () => Mailer.layerFiles(config.mailDir, config.mailFrom),
      onSome: (url) => Mailer.layerSmtp(url, config.mailFrom)
    })))
}
