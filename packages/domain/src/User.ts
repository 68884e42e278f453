/**
 * Shop accounts: the sign-up request and the account the shop returns (which never has a password).
 * Plain `Schema.Struct`s, for the reason given in `Order.ts`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Email, EmailFromInput } from "./Email.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const UserId = Schema.Int.pipe(
  Schema.positive(),
  Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER),
  Schema.annotations({ identifier: "UserId", description: "A positive integer" })
)

/**
 * A display name: 1 to 200 characters, trimmed, any script, no control characters. Names go into the
 * welcome e-mail's `To:` header, where a CR/LF would let a sign-up inject headers.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserName = Schema.String.pipe(
  Schema.trimmed(),
  Schema.minLength(1, { message: () => "Expected a non-empty name" }),
  Schema.maxLength(200),
  // \p{Cs}: a lone UTF-16 surrogate ("\ud800" in JSON) is not text; Postgres would store it as U+FFFD
  Schema.pattern(/^[^\p{Cc}\p{Cs}]*$/u, {
    message: () => "Expected a name without control characters or unpaired surrogates"
  }),
  Schema.annotations({ identifier: "UserName", description: "1-200 characters", examples: ["Ada Lovelace"] })
)

/**
 * 8 to 200 characters, decoded into a `Redacted` so it cannot reach a log line by accident.
 * The filters carry their own messages because the default ones quote the rejected value, and a
 * 400 body or a logged decode error should not echo a password.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Password = Schema.Redacted(
  Schema.String.pipe(
    Schema.minLength(8, { message: () => "Expected a password of at least 8 characters" }),
    Schema.maxLength(200, { message: () => "Expected a password of at most 200 characters" })
  )
).annotations({ identifier: "Password", description: "8-200 characters" })

/**
 * The request body of `POST /v1/users`. Name and e-mail are trimmed (and the e-mail lowercased)
 * before validation; the password is taken as typed.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateUser = Schema.Struct({
  name: Schema.compose(Schema.Trim, UserName),
  email: EmailFromInput,
  password: Password
}).annotations({ identifier: "CreateUser", description: "A sign-up: display name, e-mail address and password" })

/**
 * @since 0.1.0
 * @category models
 */
export interface CreateUser extends Schema.Schema.Type<typeof CreateUser> {}

/**
 * An account as the shop reports it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  id: UserId,
  name: UserName,
  email: Email,
  createdAt: Schema.DateTimeUtc
}).annotations({ identifier: "User" })

/**
 * @since 0.1.0
 * @category models
 */
export interface User extends Schema.Schema.Type<typeof User> {}
