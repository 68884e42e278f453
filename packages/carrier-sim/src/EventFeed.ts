/**
 * The tracking-event feed: an in-memory log with a monotonically increasing `seq`, read by long polls.
 * Nothing survives a restart: a new simulator starts at seq 1, and a cursor beyond its head (kept by a
 * consumer from an earlier run) is read as 0, so that consumer gets the new events instead of waiting forever.
 */
import { Lifecycle } from "@shop/lifecycle"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { EventsPage, TrackingEvent } from "./Api.js"

/** Longest long poll, whatever the client asks for. */
export const maxWait = Duration.seconds(30)

export interface PollRequest {
  readonly after: number
  readonly wait: Duration.Duration
  readonly limit: number
}

export interface FeedStats {
  readonly events: number
  readonly waiting: number
  readonly answered: number
}

export interface EventFeedService {
  readonly append: (event: Omit<TrackingEvent, "seq" | "at">) => Effect.Effect<TrackingEvent>
  /**
   * Answers at once when events after the cursor exist; otherwise waits for the next one, up to
   * `wait`, or until the service starts draining — then answers with what there is (nothing).
   */
  readonly poll: (request: PollRequest) => Effect.Effect<EventsPage>
  readonly stats: Effect.Effect<FeedStats>
}

export class EventFeed extends Context.Tag("carrier-sim/EventFeed")<EventFeed, EventFeedService>() {
  static readonly make = Effect.gen(function*() {
    const lifecycle = yield* Lifecycle.Lifecycle
    const log: Array<TrackingEvent> = [] // log[i].seq === i + 1
    let appended = yield* Deferred.make<void>()
    let waiting = 0
    let answered = 0

    const read = (after: number, limit: number): EventsPage => {
      const events = log.slice(after, after + limit)
      return { events, cursor: events.length > 0 ? events[events.length - 1].seq : after }
    }

    const append = Effect.fn("EventFeed.append")(function*(event: Omit<TrackingEvent, "seq" | "at">) {
      const at = new Date(yield* Clock.currentTimeMillis).toISOString()
      const full: TrackingEvent = { ...event, seq: log.length + 1, at }
      log.push(full)
      const previous = appended
      appended = yield* Deferred.make<void>()
      yield* Deferred.succeed(previous, undefined)
      return full
    })

    const poll = Effect.fn("EventFeed.poll")(function*(request: PollRequest) {
      const after = request.after > log.length ? 0 : request.after
      const wait = Duration.min(request.wait, maxWait)
      if (log.length > after || Duration.toMillis(wait) === 0) {
        answered++
        return read(after, request.limit)
      }
      // Captured in the same synchronous step as the check above: no append can slip in between.
      const next = appended
      waiting++
      yield* Effect.raceAll([Deferred.await(next), Effect.sleep(wait), lifecycle.awaitDraining]).pipe(
        Effect.ensuring(Effect.sync(() => waiting--))
      )
      answered++
      return read(after, request.limit)
    })

    return EventFeed.of({
      append,
      poll,
      stats: Effect.sync(() => ({ events: log.length, waiting, answered }))
    })
  })

  static readonly layer: Layer.Layer<EventFeed, never, Lifecycle.Lifecycle> = Layer.effect(EventFeed, EventFeed.make)
}
