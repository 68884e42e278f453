/**
 * The tracking-event subscription: long-polls the feed and hands events to the caller's callback
 * one at a time, in order. The cursor moves past an event only once its callback resolved, so an
 * event whose callback rejected (or that was in memory when the process died) is delivered again.
 */
import type { EventsPage, TrackingEvent } from "./types.js"

export interface EventContext {
  /** Aborted when the subscription closes: a long-running callback may stop early (and reject). */
  readonly signal: AbortSignal
}

/** Resolve once the event is safely handled; reject to have it delivered again after a backoff. */
export type EventHandler = (event: TrackingEvent, context: EventContext) => Promise<void>

export interface SubscriptionErrorInfo {
  /** `poll`: fetching events failed (the error is a `CarrierError`); `callback`: the callback rejected. */
  readonly source: "poll" | "callback"
  /** Consecutive failures so far (1 for the first). */
  readonly attempt: number
  /** The same poll or the same event is tried again after this delay. */
  readonly retryInMs: number
  /** The event being redelivered, for `callback` errors. */
  readonly event?: TrackingEvent
}

export interface SubscribeOptions {
  /** Deliver events after this cursor (the `seq` of the last event handled). Default 0: from the start. */
  readonly after?: number
  /** How long one long poll may wait on the server for new events. Default 25 seconds, at most 30. */
  readonly waitSeconds?: number
  /** Called for every failure the subscription recovers from by itself. Default: nothing. */
  readonly onError?: (error: unknown, info: SubscriptionErrorInfo) => void
  /** First retry delay after a failed poll or callback; doubles per consecutive failure. Default 100 ms. */
  readonly retryDelayMs?: number
  /** Largest retry delay. Default 5000 ms. */
  readonly maxRetryDelayMs?: number
}

export interface Subscription {
  /** The `seq` of the last event whose callback resolved (or the carrier's cursor). Persist it to resume. */
  readonly cursor: number
  readonly closed: boolean
  /**
   * Stops the subscription: aborts the long poll and any retry wait, waits for a callback in
   * flight to settle, and resolves. No callback starts after that. Idempotent.
   */
  close(): Promise<void>
}

export type Poll = (after: number, waitSeconds: number, signal: AbortSignal) => Promise<EventsPage>

export class EventSubscription implements Subscription {
  #cursor: number
  #closed = false
  readonly #controller = new AbortController()
  readonly #done: Promise<void>

  constructor(
    private readonly poll: Poll,
    private readonly onEvent: EventHandler,
    private readonly options: SubscribeOptions
  ) {
    this.#cursor = options.after ?? 0
    this.#done = this.#run()
  }

  get cursor(): number {
    return this.#cursor
  }

  get closed(): boolean {
    return this.#closed
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#controller.abort()
    }
    return this.#done
  }

  async #run(): Promise<void> {
    const waitSeconds = Math.max(0, Math.min(this.options.waitSeconds ?? 25, 30))
    let failures = 0
    while (!this.#closed) {
      let page: EventsPage
      const started = Date.now()
      try {
        page = await this.poll(this.#cursor, waitSeconds, this.#controller.signal)
        failures = 0
      } catch (error) {
        if (this.#closed) return
        failures++
        await this.#retryLater(error, { source: "poll", attempt: failures })
        continue
      }
      if (page.events.length === 0) {
        // may move back: a carrier that lost its feed restarts at 0
        this.#cursor = page.cursor
        // Nothing, and sooner than asked (no wait, or a server shutting down): do not spin.
        if (waitSeconds === 0 || Date.now() - started < waitSeconds * 900) {
          await this.#pause(this.options.retryDelayMs ?? 100)
        }
        continue
      }
      for (const event of page.events) {
        if (!(await this.#deliver(event))) return
        this.#cursor = event.seq
      }
    }
  }

  /** Calls back until the callback resolves; `false` once closed instead. */
  async #deliver(event: TrackingEvent): Promise<boolean> {
    for (let attempt = 1;; attempt++) {
      if (this.#closed) return false
      try {
        await this.onEvent(event, { signal: this.#controller.signal })
        return true
      } catch (error) {
        await this.#retryLater(error, { source: "callback", attempt, event })
      }
    }
  }

  async #retryLater(error: unknown, info: Omit<SubscriptionErrorInfo, "retryInMs">): Promise<void> {
    const initial = this.options.retryDelayMs ?? 100
    const retryInMs = Math.min(initial * 2 ** (info.attempt - 1), this.options.maxRetryDelayMs ?? 5_000)
    try {
      this.options.onError?.(error, { ...info, retryInMs })
    } catch {
      // a failing error reporter must not stop the subscription
    }
    await this.#pause(retryInMs)
  }

  /** Resolves after `ms`, or at once when the subscription closes. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = this.#controller.signal
      if (signal.aborted) return resolve()
      const timer = setTimeout(done, ms)
      signal.addEventListener("abort", done, { once: true })
      function done() {
        clearTimeout(timer)
        signal.removeEventListener("abort", done)
        resolve()
      }
    })
  }
}
