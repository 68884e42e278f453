/**
 * Hostile requests shared by the hostile-input suite and the differential suite: request targets,
 * header values and whole requests that Node itself refuses.
 */
import * as fc from "effect/FastCheck"
import { percentEncode, validOrderText } from "./arbitraries.js"
import { request } from "./raw.js"

/** Request targets: the API's own paths, traversal and encoding tricks, random paths. */
export const routeTarget: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "/v1/users",
    "/v1/orders",
    "/v1/orders/1",
    "/v1/orders/1/pay",
    "/v1/orders/1/cancel",
    "/v1/orders/1/retry-booking",
    "/v1/orders/1/ship",
    "/v1/users/1",
    "/v2/orders",
    "/V1/ORDERS/1",
    "/v1/orders/../users",
    "//evil.example/v1/orders/1/pay",
    "/v1/orders/1/pay/..",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/docs/..%2F..%2Fpackage.json",
    "/healthz/../v1/orders/1/pay",
    "*",
    "/\u00e9",
    "/a b",
    "/\u0000",
    "/" + "a".repeat(20_000)
  ),
  fc.webPath(),
  fc.array(fc.string({ unit: "binary", maxLength: 8 }).map(percentEncode), { maxLength: 6 }).map((s) =>
    `/${s.join("/")}`
  )
)

/** Idempotency-Key values that are not keys: empty, blank, over 200 characters, control bytes. */
export const notAnIdempotencyKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", " ", "\t", "   \t "),
  fc.tuple(fc.integer({ min: 201, max: 8_000 }), fc.constantFrom("k", "\u00ff", "\u20ac", "%")).map((
    [n, c]
  ) => c.repeat(n)),
  fc.tuple(
    fc.stringMatching(/^[a-z0-9]{0,20}$/),
    fc.constantFrom("\u0000", "\u0001", "\u001f", "\r", "\n", "\r\n", "\u000b"),
    fc.stringMatching(/^[a-z0-9]{0,20}$/)
  )
    .map(([a, c, b]) => `k${a}${c}${b}k`)
)

/** Requests Node refuses before any handler (bad framing, header overflow, CONNECT, Expect, no Host) and their status. */
export const nodeRefusedRequests: ReadonlyArray<readonly [name: string, bytes: string | Buffer, status: number]> = [
  ["garbage request line", "GARBAGE\r\n\r\n", 400],
  ["HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400],
  ["NUL in a header", request("GET", "/v1/orders", { headers: { "x-a": "a\u0000b" } }), 400],
  [
    "raw unicode in the path",
    Buffer.from("GET /v1/orders/\u00e2\u0082\u00ac HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"),
    400
  ],
  [
    "Content-Length and Transfer-Encoding",
    "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
    400
  ],
  [
    "Content-Length beyond 2^64",
    "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
    400
  ],
  ["negative Content-Length", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}", 400],
  [
    "two Content-Lengths",
    "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    400
  ],
  [
    "broken chunk size",
    "POST /v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    400
  ],
  ["headers over 16 KiB", request("GET", "/v1/orders", { headers: { "x-big": "a".repeat(100_000) } }), 431],
  ["URL over 16 KiB", request("GET", `/v1/orders/${"1".repeat(100_000)}`), 431],
  ["CONNECT", "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", 405],
  [
    "unknown Expect",
    request("POST", "/v1/orders", { body: validOrderText, headers: { expect: "202-accepted" } }),
    417
  ],
  ["HTTP/1.1 without Host", "GET /v1/orders/abc HTTP/1.1\r\nConnection: close\r\n\r\n", 400]
]
