/**
 * The simulator's knobs, as options (embedding, tests) or from `Config` (`CARRIER_SIM_*`).
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

export interface Options {
  /** 0 binds a free port (the default when embedded); the standalone default is 8081. */
  readonly port?: number | undefined
  /** Interface to bind; default all interfaces standalone, 127.0.0.1 when embedded. */
  readonly host?: string | undefined
  /** Time before a booking is answered. Default 200 millis. */
  readonly latency?: Duration.DurationInput | undefined
  /** The latency varies uniformly by ± this. Default 50 millis. */
  readonly jitter?: Duration.DurationInput | undefined
  /** Fraction (0..1) of bookings answered 503 after the latency, without booking. Default 0. */
  readonly failureRate?: number | undefined
  /** `in_transit` is emitted this long after booking. Default 300 millis. */
  readonly inTransitAfter?: Duration.DurationInput | undefined
  /** `delivered` is emitted this long after booking (never before `in_transit`). Default 600 millis. */
  readonly deliveredAfter?: Duration.DurationInput | undefined
  /** In-flight requests may take this long to finish once shutdown begins. Default 5 seconds. */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /**
   * Once the listener closed, idle keep-alive connections get this long for a request already sent.
   * Default 250 millis standalone; 0 embedded, where the host's own clients have stopped by then.
   */
  readonly idleGrace?: Duration.DurationInput | undefined
}

export interface Settings {
  readonly port: number
  readonly host: string | undefined
  readonly latency: Duration.Duration
  readonly jitter: Duration.Duration
  readonly failureRate: number
  readonly inTransitAfter: Duration.Duration
  readonly deliveredAfter: Duration.Duration
  readonly drainTimeout: Duration.Duration
  readonly idleGrace: Duration.Duration
}

/** Throws a `RangeError` outside 0..1 (options are a programmer's input, not the environment). */
export const validateFailureRate = (rate: number): number => {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`failure rate must be between 0 and 1, got ${rate}`)
  return rate
}

export const resolve = (
  options: Options,
  defaults: { readonly port: number; readonly host?: string; readonly idleGrace?: Duration.DurationInput }
): Settings => ({
  port: options.port ?? defaults.port,
  host: options.host ?? defaults.host,
  latency: Duration.decode(options.latency ?? "200 millis"),
  jitter: Duration.decode(options.jitter ?? "50 millis"),
  failureRate: validateFailureRate(options.failureRate ?? 0),
  inTransitAfter: Duration.decode(options.inTransitAfter ?? "300 millis"),
  deliveredAfter: Duration.decode(options.deliveredAfter ?? "600 millis"),
  drainTimeout: Duration.decode(options.drainTimeout ?? "5 seconds"),
  idleGrace: Duration.decode(options.idleGrace ?? defaults.idleGrace ?? "250 millis")
})

const duration = (name: string, fallback: Duration.DurationInput) =>
  Config.duration(name).pipe(Config.withDefault(Duration.decode(fallback)))

/**
 * `CARRIER_SIM_PORT` (0 = a free port), `CARRIER_SIM_LATENCY`, `CARRIER_SIM_JITTER`,
 * `CARRIER_SIM_FAILURE_RATE`, `CARRIER_SIM_IN_TRANSIT_AFTER`, `CARRIER_SIM_DELIVERED_AFTER`.
 */
export const config = (defaultPort: number): Config.Config<Options> =>
  Config.all({
    // not Config.port, which refuses 0
    port: Config.integer("CARRIER_SIM_PORT").pipe(
      Config.withDefault(defaultPort),
      Config.validate({ message: "must be a port (0 for any free one)", validation: (n) => n >= 0 && n <= 65535 })
    ),
    latency: duration("CARRIER_SIM_LATENCY", "200 millis"),
    jitter: duration("CARRIER_SIM_JITTER", "50 millis"),
    failureRate: Config.number("CARRIER_SIM_FAILURE_RATE").pipe(
      Config.withDefault(0),
      Config.validate({ message: "must be between 0 and 1", validation: (n) => n >= 0 && n <= 1 })
    ),
    inTransitAfter: duration("CARRIER_SIM_IN_TRANSIT_AFTER", "300 millis"),
    deliveredAfter: duration("CARRIER_SIM_DELIVERED_AFTER", "600 millis"),
    host: Config.string("CARRIER_SIM_HOST").pipe(Config.option, Config.map(Option.getOrUndefined))
  })
