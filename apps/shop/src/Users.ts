/**
 * Sign-up: the user and the welcome e-mail's outbox row are written in one transaction, then the
 * e-mail is handed to BackgroundTasks so it goes out at once; shutdown waits for it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { EmailTaken, type ServiceUnavailable } from "@shop/domain/Errors"
import type { CreateUser, User } from "@shop/domain/User"
import { BackgroundTasks } from "@shop/lifecycle"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { refineSqlError } from "./DatabaseEdge.js"
import { Outbox } from "./Outbox.js"
import * as Passwords from "./Passwords.js"

interface UserRow {
  readonly id: number
  readonly name: string
  readonly email: string
  readonly createdAt: Date
}

const welcome = (name: string) => ({
  subject: "Welcome to the shop",
  body: `Hello ${name},\r\n\r\nyour account is ready. Happy shopping!\r\n`
})

export class Users extends Context.Tag("shop/Users")<Users, {
  readonly create: (input: CreateUser) => Effect.Effect<User, EmailTaken | ServiceUnavailable>
}>() {
  static readonly layer = Layer.effect(
    Users,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* Outbox
      const tasks = yield* BackgroundTasks.BackgroundTasks

      const create = Effect.fn("Users.create")(function*(input: CreateUser) {
        const passwordHash = yield* Passwords.hash(input.password)
        const mail = welcome(input.name)
        const created = yield* sql.withTransaction(Effect.gen(function*() {
          const [user] = yield* sql<UserRow>`
            INSERT INTO users (name, email, password_hash) VALUES (${input.name}, ${input.email}, ${passwordHash})
            ON CONFLICT (lower(email)) DO NOTHING
            RETURNING id, name, email, created_at`
          if (user === undefined) return yield* new EmailTaken({ email: input.email })
          const [row] = yield* sql<{ id: number }>`
            INSERT INTO outbox (kind, recipient, subject, body)
            VALUES ('welcome', ${user.email}, ${mail.subject}, ${mail.body}) RETURNING id`
          return { user, outboxId: Number(row.id) }
        })).pipe(refineSqlError)
        // The row is committed: if this is refused (shutting down) or the process dies, the sweeper sends it.
        yield* tasks.run(`welcome-email:${created.outboxId}`, outbox.deliver(created.outboxId)).pipe(
          Effect.catchTag("ShuttingDown", () => Effect.log("welcome e-mail left to the outbox sweeper"))
        )
        const { user } = created
        // int8 columns arrive as strings from pg
        return {
          id: Number(user.id),
          name: user.name,
          email: user.email,
          createdAt: DateTime.unsafeFromDate(user.createdAt)
        }
      })
      return { create }
    })
  )
}
