/** One HTTP exchange with a deadline and an optional caller signal, mapped to `CarrierError`s. */
import { CarrierError } from "./CarrierError.js"

export interface Exchange {
  readonly status: number
  readonly body: unknown
}

export interface SendOptions {
  readonly method: "GET" | "POST"
  readonly headers?: Record<string, string>
  readonly body?: string
  readonly timeoutMs: number
  readonly signal?: AbortSignal | undefined
}

const parse = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export const send = async (baseUrl: string, path: string, options: SendOptions): Promise<Exchange> => {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, options.timeoutMs)
  const onAbort = () => controller.abort()
  if (options.signal?.aborted) controller.abort()
  options.signal?.addEventListener("abort", onAbort, { once: true })
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method: options.method,
      headers: { accept: "application/json", ...options.headers },
      body: options.body ?? null,
      signal: controller.signal
    })
    // the body is read under the same deadline and signal
    return { status: response.status, body: parse(await response.text()) }
  } catch (cause) {
    const what = `${options.method} ${path}`
    if (timedOut) {
      throw new CarrierError(`${what} timed out after ${options.timeoutMs} ms`, {
        code: "TIMEOUT",
        retryable: true,
        cause
      })
    }
    if (options.signal?.aborted) {
      throw new CarrierError(`${what} was aborted`, { code: "ABORTED", retryable: true, cause })
    }
    const reason = cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : String(cause)
    throw new CarrierError(`${what} failed: ${reason}`, { code: "NETWORK", retryable: true, cause })
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener("abort", onAbort)
  }
}
