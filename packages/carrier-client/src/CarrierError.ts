/** Everything the SDK throws (or reports to `onError`) for a failed call. */

/**
 * `HTTP` when the carrier answered without a JSON `_tag` (otherwise the code is that tag, e.g.
 * `CarrierUnavailable`), `NETWORK` when no answer arrived, `TIMEOUT` after `timeoutMs`, `ABORTED` when
 * the caller's signal fired, `INVALID_RESPONSE` when a 2xx body is not what the API documents.
 */
export type CarrierErrorCode = "HTTP" | "NETWORK" | "TIMEOUT" | "ABORTED" | "INVALID_RESPONSE" | (string & {})

export interface CarrierErrorOptions {
  readonly code: CarrierErrorCode
  readonly status?: number | undefined
  readonly retryable: boolean
  readonly body?: unknown
  readonly cause?: unknown
}

export class CarrierError extends Error {
  override readonly name = "CarrierError"
  readonly code: CarrierErrorCode
  /** The HTTP status, or `undefined` when no response arrived (network error, timeout, abort). */
  readonly status: number | undefined
  /**
   * Whether the same call may succeed later: 5xx, 408, 429, network errors, timeouts and aborts.
   * Other 4xx are the caller's to fix. A booking that timed out may still have been made: retry it
   * with the same idempotency key, never a new one.
   */
  readonly retryable: boolean
  /** The parsed response body, when there was one. */
  readonly body: unknown

  constructor(message: string, options: CarrierErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    this.status = options.status
    this.retryable = options.retryable
    this.body = options.body
  }
}

export const isRetryableStatus = (status: number): boolean => status >= 500 || status === 408 || status === 429

export const isCarrierError = (u: unknown): u is CarrierError => u instanceof CarrierError

/** The error for a non-2xx answer: the carrier's `_tag` and `message` when its body has them. */
export const fromResponse = (method: string, path: string, status: number, body: unknown): CarrierError => {
  const tagged = typeof body === "object" && body !== null ? body as { _tag?: unknown; message?: unknown } : {}
  const code = typeof tagged._tag === "string" ? tagged._tag : "HTTP"
  const detail = typeof tagged.message === "string" ? `: ${tagged.message}` : ""
  return new CarrierError(`${method} ${path} failed with ${status} ${code}${detail}`, {
    code,
    status,
    retryable: isRetryableStatus(status),
    body
  })
}
