/**
 * The simulator as a service: started in-process as a Layer (the shop's dev default when it has no
 * `CARRIER_URL`, and tests), or as the process main (`layerMain`, see main.ts).
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import { GracefulHttp, Lifecycle } from "@shop/lifecycle"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import type { Stats } from "./Api.js"
import { EventFeed } from "./EventFeed.js"
import { HttpLive } from "./Http.js"
import * as Settings from "./Settings.js"
import { Shipments } from "./Shipments.js"

export interface CarrierSimService {
  /** Base URL of the running simulator, e.g. `http://127.0.0.1:40123`. */
  readonly url: string
  readonly port: number
  readonly stats: Effect.Effect<Stats>
  /** Changes the fraction of bookings answered 503 (0..1), for drills and tests. */
  readonly setFailureRate: (rate: number) => Effect.Effect<void>
}

/** Options of {@link CarrierSim.start}. */
export interface StartOptions extends Settings.Options {
  /** Least severe log level printed. Default `Warning`: the simulator stays quiet in test output. */
  readonly logLevel?: LogLevel.Literal | undefined
}

/** The Promise-shaped handle {@link CarrierSim.start} returns, for callers without Effect. */
export interface RunningCarrierSim {
  readonly url: string
  readonly port: number
  readonly stats: () => Promise<Stats>
  readonly setFailureRate: (rate: number) => Promise<void>
  /** Graceful stop: open long polls are answered at once, in-flight bookings finish. */
  readonly close: () => Promise<void>
}

// Embedded, the simulator stops after everything of its host that calls it: an idle connection left
// then is the host's own (its SDK's keep-alive pool), so there is nothing to wait for.
const embedded = { port: 0, host: "127.0.0.1", idleGrace: 0 }

const urlOf = (host: string | undefined, port: number) => {
  const name = host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host
  return `http://${name.includes(":") ? `[${name}]` : name}:${port}`
}

/**
 * Built bottom-up: feed, shipments, HTTP server, service; so on release the server drains first
 * (long polls end when draining begins), then pending tracking events are dropped.
 */
const serve = (settings: Settings.Settings): Layer.Layer<CarrierSim, ServeError, Lifecycle.Lifecycle> =>
  Layer.effect(
    CarrierSim,
    Effect.gen(function*() {
      const http = yield* GracefulHttp.GracefulHttp
      const shipments = yield* Shipments
      const url = urlOf(settings.host, http.port)
      yield* Effect.log(`carrier-sim: listening on ${url}`)
      return CarrierSim.of({ url, port: http.port, stats: shipments.stats, setFailureRate: shipments.setFailureRate })
    })
  ).pipe(
    Layer.provide(HttpLive(settings)),
    Layer.provide(Shipments.layer(settings).pipe(Layer.provideMerge(EventFeed.layer)))
  )

/**
 * Builds `layer` with its own memo map. Layers are memoized per build, and `HttpApiBuilder` keeps its
 * routes in a global `Router` tag: embedded in a host that also serves an HttpApi, the two APIs would
 * share one router (and collide on `/healthz`). Isolated, the simulator gets its own router,
 * lifecycle and server, released with the host's scope.
 */
const isolated = <E>(layer: Layer.Layer<CarrierSim, E>): Layer.Layer<CarrierSim, E> =>
  Layer.scoped(
    CarrierSim,
    Effect.gen(function*() {
      const memoMap = yield* Layer.makeMemoMap
      const context = yield* Layer.buildWithMemoMap(layer, memoMap, yield* Effect.scope)
      return Context.get(context, CarrierSim)
    })
  )

export class CarrierSim extends Context.Tag("@shop/carrier-sim/CarrierSim")<CarrierSim, CarrierSimService>() {
  /**
   * Starts the simulator in-process, by default on a free port of 127.0.0.1, with its own
   * lifecycle: releasing the layer drains it like a standalone shutdown.
   */
  static readonly layer = (options: Settings.Options = {}): Layer.Layer<CarrierSim, ServeError> =>
    isolated(
      serve(Settings.resolve(options, embedded)).pipe(
        Layer.provide(Lifecycle.layer),
        // its "listening" and shutdown lines would otherwise read as the host service's own
        Layer.annotateLogs("service", "carrier-sim")
      )
    )

  /** {@link CarrierSim.layer} configured from `CARRIER_SIM_*`; `CARRIER_SIM_PORT` defaults to 0 (a free port). */
  static readonly layerConfig: Layer.Layer<CarrierSim, ServeError | ConfigError.ConfigError> = Layer.unwrapEffect(
    Effect.map(Settings.config(0), (options) => CarrierSim.layer(options))
  )

  /**
   * The standalone process: `CARRIER_SIM_*` with port 8081 on all interfaces, under the launcher's
   * `Lifecycle` (so SIGTERM ends open long polls at once).
   */
  static readonly layerMain: Layer.Layer<CarrierSim, ServeError | ConfigError.ConfigError, Lifecycle.Lifecycle> = Layer
    .unwrapEffect(
      Effect.map(Settings.config(8081), (options) => serve(Settings.resolve(options, { port: 8081 })))
    )

  /** Starts an in-process simulator from plain code (Promise API). Call `close()` when done. */
  static readonly start = (options: StartOptions = {}): Promise<RunningCarrierSim> =>
    Effect.runPromise(
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(CarrierSim.layer(options), scope).pipe(
          Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
        )
        const sim = Context.get(context, CarrierSim)
        const close = Effect.uninterruptible(Scope.close(scope, Exit.void))
        return {
          url: sim.url,
          port: sim.port,
          stats: () => Effect.runPromise(sim.stats),
          setFailureRate: (rate) => Effect.runPromise(sim.setFailureRate(rate)),
          close: () => Effect.runPromise(close)
        } satisfies RunningCarrierSim
      }).pipe(Logger.withMinimumLogLevel(LogLevel.fromLiteral(options.logLevel ?? "Warning")))
    )
}
