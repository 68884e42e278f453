/**
 * Generators of hostile input for the shop's HTTP API. Bodies are generated as JSON *text*, so they
 * can carry what `JSON.stringify` never produces (`1e309`, `-0`, duplicate keys, truncations).
 */
import * as fc from "effect/FastCheck"

// ---------------------------------------------------------------------------------------------
// strings and numbers

/** Single characters that break things: NUL and other controls, lone surrogates, bidi, BOM, emoji. */
export const nastyChar = fc.constantFrom(
  "\u0000",
  "\u0001",
  "\u0007",
  "\b",
  "\t",
  "\n",
  "\r",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u202e",
  "\u200b",
  "\ufeff",
  "\ufffd",
  "\uffff",
  "\ud800",
  "\udfff",
  "\u{1f642}",
  "\u0130",
  "\u00df",
  "\u{10ffff}",
  "\\",
  "\"",
  "'",
  "%",
  "@",
  " "
)

/** Strings as an attacker or a broken client sends them. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: nastyChar, maxLength: 12 }),
  fc.tuple(fc.string({ maxLength: 10 }), nastyChar, fc.string({ maxLength: 10 })).map(([a, c, b]) => a + c + b),
  fc.constantFrom(
    "",
    " ",
    "null",
    "undefined",
    "NaN",
    "Infinity",
    "1e309",
    "-1",
    "0x10",
    "' OR 1=1 --",
    "'); DROP TABLE orders; --",
    "<script>alert(1)</script>",
    "%00",
    "../../etc/passwd",
    "${jndi:ldap://x/a}",
    "{{7*7}}",
    "a@b",
    "@.",
    "a@b.co\r\nBcc: victim@example.com",
    "a\u0000@b.co",
    "\ud800@b.co",
    "ADA@EXAMPLE.COM ",
    "ad\u0430@example.com"
  ),
  // very long: past every maxLength (200 names, 254 e-mails, 64 SKUs), up to 100 000 characters
  fc.tuple(fc.integer({ min: 65, max: 100_000 }), fc.constantFrom("x", "\u{1f642}", "\u0000", " ", "@"))
    .map(([n, c]) => c.repeat(n))
)

/** Number literals, as raw JSON text: out of range, fractional, negative, unsafe, overflowing. */
export const nastyNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "1e309",
    "-1e309",
    "1E400",
    "9007199254740992",
    "9007199254740993",
    "-9007199254740993",
    "99999999999999999999",
    "1e21",
    "-0",
    "0",
    "-1",
    "0.5",
    "1.5",
    "1e-7",
    "4.9e-324",
    "1001",
    "100000001",
    "2147483648",
    "-2147483649",
    "1.0000000000000002",
    "1e2",
    "1.0"
  ),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d))
)

/** Any JSON value, as text. */
export const jsonText: fc.Arbitrary<string> = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v))

/** A field value of the wrong kind, or of the right kind with a hostile content. */
export const nastyValueText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: nastyString.map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: nastyNumberText },
  { weight: 1, arbitrary: fc.constantFrom("null", "true", "false", "[]", "{}", "[1]", "{\"a\":1}", "\"\"") },
  { weight: 1, arbitrary: nastyNumberText.map((n) => JSON.stringify(n)) }, // numbers as strings
  { weight: 1, arbitrary: jsonText }
)

// ---------------------------------------------------------------------------------------------
// request bodies

const fieldsText = (fields: ReadonlyArray<readonly [string, string | undefined]>) =>
  `{${fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`

/** One field's text: valid, hostile, missing, or duplicated with a hostile twin (the last one wins). */
const field = (valid: string, hostile: boolean) =>
  hostile
    ? fc.oneof(
      { weight: 8, arbitrary: nastyValueText },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: nastyValueText.map((v) => `${valid},"__dup__":${v}`) }
    )
    : fc.constant(valid)

const withDuplicates = (text: string, name: string) => text.replaceAll("\"__dup__\"", JSON.stringify(name))

/** Extra members: unknown keys, prototype-pollution attempts. */
const extraMembers = fc.option(
  fc.constantFrom(
    ",\"__proto__\":{\"admin\":true}",
    ",\"constructor\":{\"prototype\":{\"admin\":true}}",
    ",\"id\":1",
    ",\"status\":\"paid\"",
    ",\"\":null"
  ),
  { nil: "" }
)

/** A sign-up body with at least one field made hostile (it may still be valid: filter with the schema). */
export const signUpText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }))
  .chain(([forced, others]) => {
    const hostile = (i: number) => i === forced || others[i]
    return fc.tuple(
      field(JSON.stringify("Ada Lovelace"), hostile(0)),
      field(JSON.stringify("ada@example.com"), hostile(1)),
      field(JSON.stringify("correct horse battery"), hostile(2)),
      extraMembers
    )
  })
  .map(([name, email, password, extra]) =>
    fieldsText([["name", name && withDuplicates(name, "name")], [
      "email",
      email && withDuplicates(email, "email")
    ], ["password", password && withDuplicates(password, "password")]]).slice(0, -1) + extra + "}"
  )

const validItem = { sku: "TEA-GREEN-250", quantity: 2, unitPriceCents: 450 }

/** An order line with at least one field made hostile. */
const itemText = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }))
  .chain(([forced, others]) => {
    const hostile = (i: number) => i === forced || others[i]
    return fc.tuple(
      field(JSON.stringify(validItem.sku), hostile(0)),
      field(String(validItem.quantity), hostile(1)),
      field(String(validItem.unitPriceCents), hostile(2))
    )
  })
  .map(([sku, quantity, price]) =>
    fieldsText([["sku", sku && withDuplicates(sku, "sku")], [
      "quantity",
      quantity && withDuplicates(quantity, "quantity")
    ], ["unitPriceCents", price && withDuplicates(price, "unitPriceCents")]])
  )

export const validItemText = JSON.stringify(validItem)

/** `items`: one hostile line among valid ones, too few or too many lines (up to 10 000), or no array at all. */
const itemsText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(itemText, fc.nat(3), fc.nat(3)).map(([bad, before, after]) =>
      `[${[...Array(before).fill(validItemText), bad, ...Array(after).fill(validItemText)].join(",")}]`
    )
  },
  {
    weight: 2,
    // 10 000 lines cost the server ~0.4 s (its 400 quotes them all): rarer, and always tried as an example
    arbitrary: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(0, 101, 102, 1000) }, {
      weight: 1,
      arbitrary: fc.constant(10_000)
    }).map((n) => `[${Array(n).fill(validItemText).join(",")}]`)
  },
  { weight: 1, arbitrary: fc.constant(`[${validItemText},null]`) },
  { weight: 2, arbitrary: nastyValueText }
)

/** An order body with something hostile in it (it may still be valid: filter with the schema). */
export const orderText: fc.Arbitrary<string> = fc
  .tuple(fc.boolean(), fc.boolean())
  .chain(([emailHostile, itemsHostile]) =>
    fc.tuple(
      field(JSON.stringify("ada@example.com"), emailHostile || !itemsHostile),
      itemsHostile || !emailHostile ? itemsText : fc.constant(`[${validItemText}]`),
      extraMembers
    )
  )
  .map(([email, items, extra]) =>
    fieldsText([["email", email && withDuplicates(email, "email")], ["items", items]]).slice(0, -1) + extra + "}"
  )

export const validOrderText = JSON.stringify({ email: "ada@example.com", items: [validItem] })
export const validSignUpText = JSON.stringify({
  name: "Ada Lovelace",
  email: "ada@example.com",
  password: "correct horse battery"
})

/** Bytes that are not JSON: truncations, trailing garbage, JavaScript-isms, random bytes, broken UTF-8. */
export const brokenJsonBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(validOrderText, validSignUpText).chain((text) =>
    fc.integer({ min: 1, max: text.length - 1 }).map((n) => Buffer.from(text.slice(0, n)))
  ),
  fc.tuple(
    fc.constantFrom(validOrderText, validSignUpText),
    fc.constantFrom(",", "}", "]", "x", "\u0000", "{}", " //", "\"")
  )
    .map(([text, tail]) => Buffer.from(text + tail)),
  fc.constantFrom(
    "{email:'ada@example.com'}",
    "{\"email\":\"ada@example.com\",}",
    "[1,]",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "{\"a\":01}",
    "\"\\x41\"",
    "\"\\u00\"",
    "\"\\ud800\\\"",
    "{\"a\" 1}",
    "/* comment */ {}",
    "\ufeff{}",
    "{\"a\":\"\u0000\"}",
    "undefined",
    "{\"a\":1}{\"b\":2}",
    "\"unterminated",
    "{\"items\":[{]}",
    "}"
  ).map((text) => Buffer.from(text)),
  fc.uint8Array({ minLength: 1, maxLength: 300 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 100 }).map((text) => Buffer.from(text)),
  // valid JSON text with invalid UTF-8 spliced into a string
  fc.tuple(
    fc.constantFrom(validOrderText, validSignUpText),
    fc.constantFrom([0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80])
  )
    .map(([text, bytes]) => {
      const at = text.indexOf("@")
      return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))])
    })
)

/** Content types a JSON body arrives with (or not). */
export const jsonContentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/json; charset=latin1",
  "", // empty: as good as none
  undefined
)

/** Content types the API does not speak. */
export const otherContentType = fc.constantFrom(
  "text/plain",
  "text/html; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "multipart/form-data",
  "multipart/form-data; boundary=",
  "application/octet-stream",
  "application/xml",
  "garbage"
)

/** Arrays and objects nested past any sane depth. */
export const deeplyNested: fc.Arbitrary<string> = fc
  // up to 100 000 levels: a bigger body would be refused for its size (413) before its depth is seen
  .tuple(fc.integer({ min: 65, max: 100_000 }), fc.constantFrom("array", "object", "items"))
  .map(([depth, kind]) =>
    kind === "array"
      ? "[".repeat(depth) + "]".repeat(depth)
      : kind === "object"
      ? "{\"email\":".repeat(depth) + "1" + "}".repeat(depth)
      : `{"email":"ada@example.com","items":[${"[".repeat(depth)}${"]".repeat(depth)}]}`
  )

// ---------------------------------------------------------------------------------------------
// URLs, headers, methods

/** Percent-encodes every byte of the UTF-8 encoding (a lone surrogate becomes U+FFFD's bytes). */
export const percentEncode = (text: string) =>
  [...Buffer.from(text, "utf8")].map((b) =>
    /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, "0")}`
  ).join("")

/** Path segments in place of an order id, as they appear on the request line (raw, unnormalised). */
export const pathId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "abc",
    "-1",
    "0",
    "00",
    "01",
    "1e3",
    "1.0",
    "+1",
    "0x10",
    "1_000",
    "Infinity",
    "NaN",
    "null",
    "99999999999999999999",
    "9007199254740992",
    "9007199254740993",
    "%00",
    "1%00",
    "%20",
    "%201",
    "1%20",
    "..",
    "../",
    "..%2F",
    "%2e%2e",
    "%2F",
    "%ZZ",
    "%",
    "%E2%82%AC",
    "\u20ac",
    "\u00e9",
    "1;DROP%20TABLE%20orders",
    "1'--",
    "%F0%9F%99%82",
    "%ED%A0%80",
    "1?x=1",
    "1#frag",
    "*",
    "~"
  ),
  fc.nat().map(String), // a valid id of an order that does not exist
  fc.string({ unit: "binary", minLength: 1, maxLength: 20 }).map(percentEncode),
  fc.string({ unit: nastyChar, minLength: 1, maxLength: 5 }).map(percentEncode),
  fc.bigInt({ min: 10n ** 16n, max: 10n ** 40n }).map(String)
)

/** Query values: a parameter's text (percent-encoded on the wire). */
export const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "pending",
    "PAID",
    "paid ",
    "cancelled",
    "1",
    "100",
    "101",
    "0",
    "-1",
    "1e1",
    "20.0",
    "",
    "99999999999999999999",
    "b246MQ",
    "b246LTE",
    "b2465OTk5OTk5OTk5OTk5OTk5OTk5OQ",
    "\u0000",
    "x".repeat(512),
    "x".repeat(513)
  ),
  nastyNumberText,
  nastyString.filter((s) => s.length < 2000)
)

/** HTTP methods: the usual ones, exotic ones Node knows, and tokens it does not. */
export const method: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "PURGE"),
  fc.constantFrom("get", "Post", "FOO", "GE T", "G\u00c9T", "", "POST\u0000", "\u0001"),
  fc.stringMatching(/^[A-Z]{1,10}$/)
)
