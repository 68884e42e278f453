/**
 * Ready means `GET <url>` answered 200. Probed on a new connection each time (HttpGet), so the probe
 * leaves no kept-alive socket for a shutdown right after the start to wait for.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Child } from "./Child.js"
import { HarnessError } from "./HarnessError.js"
import * as HttpGet from "./HttpGet.js"

export interface ReadyOptions {
  readonly bound: Duration.DurationInput
  /** Between probes; the start → ready figure is read to this precision (default 10 ms). */
  readonly interval?: Duration.DurationInput | undefined
}

/** Probes until a 200; the time from the spawn to it. Fails when the child exits first or `bound` passes. */
export const waitReady = (
  child: Child,
  url: string,
  options: ReadyOptions
): Effect.Effect<Duration.Duration, HarnessError> => {
  const probe = HttpGet.get(url, "1 second").pipe(
    Effect.map((answer) => answer.status === 200),
    Effect.orElseSucceed(() => false)
  )
  return Effect.gen(function*() {
    while (true) {
      if (child.exited()) return yield* new HarnessError({ message: `exited before it was ready: ${child.describe()}` })
      if (yield* probe) return Duration.millis(Date.now() - child.spawnedAt)
      yield* Effect.sleep(options.interval ?? Duration.millis(10))
    }
  }).pipe(
    Effect.timeoutFail({
      duration: options.bound,
      onTimeout: () =>
        new HarnessError({ message: `${url} not 200 within ${Duration.format(options.bound)}: ${child.describe()}` })
    })
  )
}
