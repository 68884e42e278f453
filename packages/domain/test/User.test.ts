import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { CreateUser, User } from "../src/User.js"

const signup = (overrides: Record<string, unknown> = {}) => ({
  name: "Ada Lovelace",
  email: "ada@example.com",
  password: "correct horse",
  ...overrides
})
const decode = Schema.decodeUnknownEither(CreateUser)

describe("CreateUser", () => {
  it.effect("trims the name, normalizes the e-mail and redacts the password", () =>
    Effect.gen(function*() {
      const user = yield* Schema.decodeUnknown(CreateUser)(signup({ name: "  Ada  ", email: " ADA@Example.com" }))
      assert.strictEqual(user.name, "Ada")
      assert.strictEqual(user.email, "ada@example.com")
      assert.isTrue(Redacted.isRedacted(user.password))
      assert.strictEqual(Redacted.value(user.password), "correct horse")
      assert.notInclude(String(user.password), "correct")
    }))

  it.effect("accepts names in any script, rejects empty, long and control characters", () =>
    Effect.sync(() => {
      assert.isTrue(Either.isRight(decode(signup({ name: "Ада Лавлейс 李" }))))
      assert.isTrue(Either.isRight(decode(signup({ name: "x".repeat(200) }))))
      for (const name of ["", "   ", "x".repeat(201), "Ada\r\nBcc: all@example.com", "Ada\u0000"]) {
        assert.isTrue(Either.isLeft(decode(signup({ name }))), JSON.stringify(name))
      }
    }))

  it.effect("takes passwords of 8 to 200 characters and never echoes one in an error", () =>
    Effect.sync(() => {
      assert.isTrue(Either.isRight(decode(signup({ password: "12345678" }))))
      assert.isTrue(Either.isRight(decode(signup({ password: "p".repeat(200) }))))
      assert.isTrue(Either.isLeft(decode(signup({ password: "p".repeat(201) }))))
      const short = decode(signup({ password: "hunter2" }))
      assert.isTrue(Either.isLeft(short))
      if (Either.isLeft(short)) {
        const text = ParseResult.TreeFormatter.formatErrorSync(short.left)
        const issues = JSON.stringify(ParseResult.ArrayFormatter.formatErrorSync(short.left))
        assert.include(text, "at least 8 characters")
        assert.notInclude(text, "hunter2")
        assert.notInclude(issues, "hunter2")
      }
    }))

  it.effect("rejects bad e-mail addresses", () =>
    Effect.sync(() => {
      for (const email of ["ada", "ada@localhost", "ada@exa mple.com", `${"a".repeat(250)}@x.io`]) {
        assert.isTrue(Either.isLeft(decode(signup({ email }))), email)
      }
    }))
})

describe("User", () => {
  it.effect("has no password field and encodes createdAt as ISO", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(Object.keys(User.fields).sort(), ["createdAt", "email", "id", "name"])
      const json = yield* Schema.encode(User)(
        User.make({ id: 1, name: "Ada", email: "ada@example.com", createdAt: DateTime.unsafeMake(0) })
      )
      assert.deepStrictEqual(json, {
        id: 1,
        name: "Ada",
        email: "ada@example.com",
        createdAt: "1970-01-01T00:00:00.000Z"
      })
    }))
})
