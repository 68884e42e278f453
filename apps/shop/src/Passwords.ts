/**
 * Password hashing with scrypt from `node:crypto` (memory-hard, no native dependency). The stored
 * form carries its parameters, so they can be raised later without breaking old hashes.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

const N = 16384
const r = 8
const p = 1
const keyLength = 32

const scrypt = (password: string, salt: Buffer, params: { N: number; r: number; p: number }) =>
  Effect.async<Buffer, Error>((resume) => {
    // Runs on libuv's thread pool: hashing does not block the event loop.
    Crypto.scrypt(
      password,
      salt,
      keyLength,
      { ...params, maxmem: 64 * 1024 * 1024 },
      (error, key) => resume(error ? Effect.fail(error) : Effect.succeed(key))
    )
  })

/** `scrypt$N$r$p$<salt b64>$<key b64>` */
export const hash = Effect.fn("Passwords.hash")(function*(password: Redacted.Redacted<string>) {
  const salt = Crypto.randomBytes(16)
  const key = yield* Effect.orDie(scrypt(Redacted.value(password), salt, { N, r, p }))
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${key.toString("base64")}`
})

export const verify = Effect.fn("Passwords.verify")(function*(password: Redacted.Redacted<string>, stored: string) {
  const [scheme, n, rr, pp, salt, key] = stored.split("$")
  if (scheme !== "scrypt" || !salt || !key) return false
  const expected = Buffer.from(key, "base64")
  const actual = yield* Effect.orDie(
    scrypt(Redacted.value(password), Buffer.from(salt, "base64"), { N: Number(n), r: Number(rr), p: Number(pp) })
  )
  return actual.length === expected.length && Crypto.timingSafeEqual(actual, expected)
})
