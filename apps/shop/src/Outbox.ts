/**
 * Durable e-mail: a message is an `outbox` row written in the same transaction as the change that
 * causes it, delivered at once in the background, and by the sweeper after a crash.
 *
 * A delivery attempt takes a lease on the row (`locked_until`), so the immediate delivery and the
 * sweepers of several replicas never send the same row at the same time. A row is marked sent after
 * the send: a crash between the two sends it again — the only way a user gets a second copy.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { PeriodicWorker } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Mailer } from "./Mailer.js"
import { ShopConfig } from "./ShopConfig.js"
import * as ShopMetrics from "./ShopMetrics.js"

interface OutboxRow {
  readonly id: number
  readonly recipient: string
  readonly subject: string
  readonly body: string
}

export class Outbox extends Context.Tag("shop/Outbox")<Outbox, {
  /** Delivers one row if it is still unsent and not leased by another attempt. */
  readonly deliver: (id: number) => Effect.Effect<void>
  /** Delivers every unsent row whose lease is free (rows a crash left behind). */
  readonly sweep: Effect.Effect<number>
}>() {
  static readonly layer = Layer.effect(
    Outbox,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const mailer = yield* Mailer
      const config = yield* ShopConfig
      const leaseMs = Duration.toMillis(config.outboxLease)

      const claim = (only: number | undefined, limit: number) =>
        sql<OutboxRow>`
          UPDATE outbox SET locked_until = now() + ${leaseMs} * interval '1 millisecond', attempts = attempts + 1
          WHERE id IN (
            SELECT id FROM outbox
            WHERE sent_at IS NULL AND (locked_until IS NULL OR locked_until < now())
              ${only === undefined ? sql`` : sql`AND id = ${only}`}
            ORDER BY id LIMIT ${limit}
            FOR UPDATE SKIP LOCKED)
          RETURNING id, recipient, subject, body`

      const send = (row: OutboxRow) =>
        mailer.send({ to: row.recipient, subject: row.subject, text: row.body, messageId: `outbox-${row.id}@shop` })
          .pipe(
            Effect.zipRight(
              sql`UPDATE outbox SET sent_at = now(), locked_until = NULL, last_error = NULL WHERE id = ${row.id}`
            ),
            Effect.zipRight(Effect.sync(() => ShopMetrics.emails.unsafeUpdate(1, ShopMetrics.outcomeLabels("sent")))),
            Effect.catchTag("MailError", (error) =>
              // Keep the lease until it expires: that is the retry delay.
              sql`UPDATE outbox SET last_error = ${error.message} WHERE id = ${row.id}`.pipe(
                Effect.zipRight(
                  Effect.sync(() => ShopMetrics.emails.unsafeUpdate(1, ShopMetrics.outcomeLabels("failed")))
                ),
                Effect.zipRight(Effect.logWarning(`mail: delivery of outbox ${row.id} failed, will retry`, error))
              ))
          )

      // After the sweep's own deliveries: what is still waiting (failing, or leased by another replica).
      const lag = Effect.flatMap(
        sql<{ seconds: number | null }>`
          SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS seconds FROM outbox WHERE sent_at IS NULL`,
        ([row]) => Effect.sync(() => ShopMetrics.outboxLag.unsafeUpdate(row.seconds ?? 0, ShopMetrics.noLabels))
      )

      return {
        deliver: (id) =>
          claim(id, 1).pipe(
            Effect.flatMap(Effect.forEach(send, { discard: true })),
            Effect.orDie,
            Effect.withSpan("Outbox.deliver")
          ),
        sweep: claim(undefined, 50).pipe(
          Effect.tap(Effect.forEach(send, { discard: true, concurrency: 4 })),
          Effect.tap(lag),
          Effect.map((rows) => rows.length),
          Effect.orDie,
          Effect.withSpan("Outbox.sweep")
        )
      }
    })
  )
}

/** The sweeper: delivers what a crash or a failed attempt left behind. */
export class OutboxSweeper extends Context.Tag("shop/OutboxSweeper")<OutboxSweeper, PeriodicWorker.PeriodicWorker>() {
  static readonly layer = Layer.scoped(
    OutboxSweeper,
    Effect.gen(function*() {
      const outbox = yield* Outbox
      const config = yield* ShopConfig
      return yield* PeriodicWorker.make({
        name: "outbox-sweeper",
        interval: config.outboxSweepInterval,
        tick: Effect.tap(
          outbox.sweep,
          (n) => n > 0 ? Effect.log(`outbox: swept ${n} undelivered e-mail(s)`) : Effect.void
        )
      })
    })
  )
}
