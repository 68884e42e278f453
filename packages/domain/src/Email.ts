/**
 * E-mail addresses, as the shop stores and compares them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

// Deliberately loose. Full RFC 5322 validation rejects real addresses and still accepts undeliverable
// ones; only sending mail proves an address. We insist on one "@", a dot in the domain, and no whitespace
// or control characters (those break log lines, mail headers, and Postgres rejects NUL in text), and
// no lone UTF-16 surrogates ("\ud800" is valid JSON but not text: it would be stored as U+FFFD).
const shape = /^[^\s@\p{Cc}\p{Cs}]+@[^\s@\p{Cc}\p{Cs}]+\.[^\s@\p{Cc}\p{Cs}]+$/u

/**
 * A normalized e-mail address: trimmed, lowercased, at most 254 characters (the SMTP path limit).
 *
 * Use it for values the shop produces (responses, rows); use {@link EmailFromInput} for what users send.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Email = Schema.String.pipe(
  Schema.trimmed(),
  Schema.lowercased(),
  Schema.maxLength(254),
  Schema.pattern(shape, { message: () => "Expected an e-mail address such as ada@example.com" }),
  Schema.annotations({
    identifier: "Email",
    description: "A normalized (trimmed, lowercased) e-mail address, at most 254 characters",
    examples: ["ada@example.com"]
  })
)

/**
 * Decodes user input into an {@link Email}: surrounding whitespace is removed and the address is
 * lowercased before it is validated.
 *
 * Lowercasing the local part is not RFC-correct, but no real mail provider treats `Ada@` and `ada@` as
 * different mailboxes, and one account per person matters more to us (the unique index is on this value).
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmailFromInput = Schema.compose(Schema.Trim, Schema.Lowercase).pipe(
  Schema.compose(Email),
  Schema.annotations({
    identifier: "EmailInput",
    description: "An e-mail address; it is trimmed and lowercased before validation",
    examples: ["Ada@Example.com"]
  })
)
