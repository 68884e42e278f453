/**
 * An `HttpServer` for `HttpServer.serve` / `HttpApiBuilder.serve` that drains before it stops.
 *
 * The v3 `NodeHttpServer` removes its request listener first and calls `server.close()` later,
 * with no deadline: requests arriving in between hang with no handler, and a slow request holds the
 * shutdown forever while the layers it needs (the database) may already be closed. This server
 * drains inside the serve step itself, before anything the handlers depend on is released:
 *
 * 1. enter `draining`: every response from now on carries `Connection: close`, and every connection
 *    is closed as soon as its last response is done;
 * 2. after `preStopDelay` (time for load balancers to notice `/readyz` failing), stop accepting and
 *    close idle keep-alive sockets once `idleGrace` passed;
 * 3. wait for in-flight requests up to `drainTimeout`, then cut the remaining connections and log how many.
 *
 * Every error response it sends has a JSON body (see `HttpJsonErrors`). It answers oversized bodies
 * with `413` and a JSON body naming the limit (by `Content-Length`), instead of the connection reset the
 * platform's body limit produces; and what Node answers by itself with an empty body (unparseable
 * requests, headers too large or too slow, bodies too slow, HTTP/1.1 without `Host`, an unknown
 * `Expect`) or not at all (`CONNECT`) gets the same status with a JSON body.
 *
 * It serves HTTP, or HTTPS with `tls` options, or any server `createServer` makes. Servers that answer
 * on the Node response themselves (see `@shop/fast-httpapi`) get the same drain through `listen`.
 *
 * @since 0.1.0
 */
import type * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as Etag from "@effect/platform/Etag"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"
import * as HttpJsonErrors from "./HttpJsonErrors.js"
import { installJsonClientErrors } from "./internal/clientErrors.js"
import * as Connections from "./internal/connections.js"
import { refusal } from "./internal/requestLimits.js"
import { Lifecycle } from "./Lifecycle.js"

/**
 * What every server on GracefulHttp refuses from the request head alone (no `Host` on HTTP/1.1, a
 * declared body over the limit), with the status and JSON body to answer; `undefined` to go on. For
 * servers that answer on the Node response themselves: send it with `Connection: close`.
 *
 * @since 0.2.0
 */
export { type Refusal, refusal } from "./internal/requestLimits.js"

/**
 * @since 0.1.0
 */
export interface Options {
  readonly port: number
  readonly host?: string | undefined
  /** Keep serving (with readiness failing) this long before closing the listener. Default 0. */
  readonly preStopDelay?: Duration.DurationInput | undefined
  /** How long in-flight requests may take to finish once the listener closed. Default 10 seconds. */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /**
   * Once the listener closed, idle keep-alive sockets stay open this long, so a request a client sent
   * on one just before is answered rather than reset; then they are closed. Default 250 millis.
   */
  readonly idleGrace?: Duration.DurationInput | undefined
  /** Largest accepted request body in bytes; larger bodies get 413. Default 1 MiB. */
  readonly maxBodySize?: number | undefined
  /** Idle keep-alive sockets are closed after this. Default 5 seconds. */
  readonly keepAliveTimeout?: Duration.DurationInput | undefined
  /** A client must send the request headers within this. Default 10 seconds. */
  readonly headersTimeout?: Duration.DurationInput | undefined
  /** A client must send the whole request within this (slow bodies). Default 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Serve HTTPS: `key` and `cert` (or `pfx`), and any other option of `https.createServer`. */
  readonly tls?: Https.ServerOptions | undefined
  /**
   * Creates the server instead of `http.createServer` / `https.createServer`. It gets the options the
   * drain and the timeouts rely on (`keepAliveTimeout`, `headersTimeout`, `requestTimeout`, …): pass
   * them on.
   */
  readonly createServer?: ((options: Http.ServerOptions) => Http.Server) | undefined
}

/**
 * @since 0.1.0
 */
export interface Stats {
  readonly connections: number
  readonly inFlight: number
  readonly draining: boolean
}

/**
 * A Node request listener.
 *
 * @since 0.2.0
 */
export type NodeHandler = (request: Http.IncomingMessage, response: Http.ServerResponse) => void

/**
 * @since 0.1.0
 */
export interface GracefulHttpService {
  /** The underlying Node server (listening once the layer is built). */
  readonly server: Http.Server
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number
  readonly stats: Effect.Effect<Stats>
  /** The body limit every app served here enforces, in bytes. */
  readonly maxBodySize: number
  /** `true` once the drain began: every response carries `Connection: close`. */
  readonly isDraining: () => boolean
  /**
   * A Node request listener running `app` with what this server adds to every app: the `Host` check,
   * `413` by `Content-Length`, the body limit, JSON bodies for empty error responses.
   */
  readonly handler: <E, R>(
    app: HttpApp.Default<E, R>,
    middleware?: HttpMiddleware.HttpMiddleware | undefined
  ) => Effect.Effect<NodeHandler, never, Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>>
  /**
   * Serves requests with `handler` until the scope closes. On close the drain runs first, while
   * everything the handler needs is still up; then the listener is removed.
   */
  readonly listen: (handler: NodeHandler) => Effect.Effect<void, never, Scope.Scope>
}

/**
 * @since 0.1.0
 */
export class GracefulHttp extends Context.Tag("@shop/lifecycle/GracefulHttp")<GracefulHttp, GracefulHttpService>() {}

const ms = (input: Duration.DurationInput) => Duration.toMillis(Duration.decode(input))

/**
 * Answers what the request head alone refuses (no `Host`, a declared body over the limit) with a JSON
 * body, and bounds chunked bodies too (those can only be cut off: the platform resets the connection).
 */
const limitBody = (maxBodySize: number) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const refused = refusal(NodeHttpServerRequest.toIncomingMessage(request), maxBodySize)
    return refused === undefined
      ? HttpServerRequest.withMaxBodySize(app, Option.some(maxBodySize))
      : Effect.succeed(
        HttpServerResponse.unsafeJson(refused.body, { status: refused.status, headers: { connection: "close" } })
      )
  })

const makeServer = (options: Options, serverOptions: Http.ServerOptions): Http.Server =>
  options.createServer !== undefined
    ? options.createServer(serverOptions)
    : options.tls !== undefined
    ? Https.createServer({ ...options.tls, ...serverOptions })
    : Http.createServer(serverOptions)

/**
 * Creates and starts the server in the current scope.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options
): Effect.Effect<Context.Context<HttpServer.HttpServer | GracefulHttp>, ServeError, Scope.Scope | Lifecycle> =>
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    const drainTimeout = Duration.decode(options.drainTimeout ?? "10 seconds")
    const preStopDelay = Duration.decode(options.preStopDelay ?? 0)
    const idleGrace = Duration.decode(options.idleGrace ?? "250 millis")
    const maxBodySize = options.maxBodySize ?? 1024 * 1024

    const requestTimeout = ms(options.requestTimeout ?? "30 seconds")
    // Node refuses a headers timeout longer than the request timeout (0 disables the latter)
    const headersTimeout = Math.min(ms(options.headersTimeout ?? "10 seconds"), requestTimeout || Infinity)
    // Node checks both timeouts only this often (default 30 s: a 10 s limit would fire after up to 40 s)
    const shortestTimeout = Math.min(...[headersTimeout, requestTimeout].filter((t) => t > 0), 120_000)
    const server = makeServer(options, {
      keepAliveTimeout: ms(options.keepAliveTimeout ?? "5 seconds"),
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(10, Math.floor(shortestTimeout / 4)),
      // answered in limitBody, with a JSON body instead of Node's empty one
      requireHostHeader: false
    })
    // before any request handler: it must see every request first
    const connections = Connections.track(server)
    installJsonClientErrors(server, { requestTimeout, headersTimeout, maxBodySize })

    const inner = yield* NodeHttpServer.make(() => server, { port: options.port, host: options.host })

    // Stops accepting and completes once every connection has ended. Not `server.close()`: on Node >= 19
    // it also destroys every keep-alive socket that looks idle at that instant — including one whose
    // next request is already in the kernel buffer, unread, which resets a request the client has sent
    // (the SIGTERM drill saw it once every two rounds).
    const closeListener = Effect.async<void>((resume) => {
      Net.Server.prototype.close.call(server, () => resume(Effect.void))
    })
    // Requests already on the wire get read and answered (with `Connection: close`) within the grace;
    // sockets still idle after it are closed. The loop ends with the race below, when all have ended.
    const closeIdleAfterGrace = Effect.sleep(idleGrace).pipe(
      Effect.zipRight(Effect.sync(connections.closeIdle)),
      Effect.zipRight(Effect.never)
    )

    const drain = Effect.gen(function*() {
      yield* lifecycle.beginDrain("http server closing")
      connections.beginDraining()
      if (Duration.toMillis(preStopDelay) > 0) {
        yield* Effect.log(`http: draining, still serving for ${Duration.format(preStopDelay)}`)
        yield* Effect.sleep(preStopDelay).pipe(Effect.interruptible)
      }
      yield* Effect.log(`http: closed listener, waiting for ${connections.responses.size} in-flight request(s)`)
      const closed = yield* Effect.raceFirst(closeListener, closeIdleAfterGrace).pipe(
        Effect.interruptible, // finalizers are uninterruptible: without this the timeout never fires
        Effect.timeoutOption(drainTimeout)
      )
      if (Option.isNone(closed)) {
        const cutRequests = connections.responses.size
        const cutConnections = connections.sockets.size
        connections.cutAll()
        yield* Effect.logWarning(
          `http: drain timeout of ${
            Duration.format(drainTimeout)
          } passed; cut ${cutConnections} connection(s) with ${cutRequests} request(s) in flight`
        )
      }
    }).pipe(lifecycle.step("http drain", { pending: () => `${connections.responses.size} request(s) in flight` }))
    const drainOnce = yield* Effect.once(drain)

    // Added after the listener is registered, so on close it runs BEFORE the listener is removed and
    // before any layer the handlers depend on is released.
    const drainFirst = <R>(register: Effect.Effect<void, never, R>) =>
      Effect.zipRight(register, Effect.addFinalizer(() => drainOnce))

    const jsonErrors = HttpApp.appendPreResponseHandler(HttpJsonErrors.preResponseHandlerWith({ maxBodySize }))
    const wrap = <E, R>(app: HttpApp.Default<E, R>) => Effect.zipRight(jsonErrors, limitBody(maxBodySize)(app))

    const httpServer = HttpServer.make({
      address: inner.address,
      serve: (app, middleware) =>
        drainFirst(middleware === undefined ? inner.serve(wrap(app)) : inner.serve(wrap(app), middleware as any))
    })
    // Fallback when nothing was served through this server: still stop accepting in order.
    yield* Effect.addFinalizer(() => drainOnce)

    const service: GracefulHttpService = {
      server,
      port: inner.address._tag === "TcpAddress" ? inner.address.port : 0,
      stats: Effect.sync(() => ({
        connections: connections.sockets.size,
        inFlight: connections.responses.size,
        draining: connections.isDraining()
      })),
      maxBodySize,
      isDraining: connections.isDraining,
      handler: (app, middleware) =>
        middleware === undefined
          ? NodeHttpServer.makeHandler(wrap(app))
          : NodeHttpServer.makeHandler(wrap(app), middleware as any) as any,
      listen: (handler) =>
        drainFirst(Effect.acquireRelease(
          Effect.sync(() => server.on("request", handler)),
          () => Effect.sync(() => server.off("request", handler))
        ))
    }
    return Context.make(HttpServer.HttpServer, httpServer).pipe(Context.add(GracefulHttp, service))
  })

/**
 * The server plus the platform services `HttpApiBuilder.serve` needs (HttpPlatform, Etag, FileSystem, Path).
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<
  HttpServer.HttpServer | GracefulHttp | HttpPlatform.HttpPlatform | Etag.Generator | NodeContext.NodeContext,
  ServeError,
  Lifecycle
> => Layer.merge(Layer.scopedContext(make(options)), NodeHttpServer.layerContext)

/**
 * The settings {@link layerConfig} reads when given none: `PORT` (8080; 0 binds any free port),
 * `HOST`, `SHUTDOWN_DELAY` (0), `HTTP_DRAIN_TIMEOUT` (10 seconds), `HTTP_IDLE_GRACE` (250 millis),
 * `HTTP_MAX_BODY_SIZE` (1 MiB, in bytes), `HTTP_HEADERS_TIMEOUT` (10 seconds) and
 * `HTTP_REQUEST_TIMEOUT` (30 seconds; a request not fully received by then gets 408).
 *
 * @since 0.2.0
 */
export const defaultConfig: Config.Config.Wrap<Options> = {
  // not Config.port, which refuses 0: PORT=0 binds an ephemeral port (logged as "Listening on …")
  port: Config.integer("PORT").pipe(
    Config.withDefault(8080),
    Config.validate({ message: "must be a port (0 for any free one)", validation: (n) => n >= 0 && n <= 65535 })
  ),
  host: Config.string("HOST").pipe(Config.option, Config.map(Option.getOrUndefined)),
  preStopDelay: Config.duration("SHUTDOWN_DELAY").pipe(Config.withDefault(Duration.zero)),
  drainTimeout: Config.duration("HTTP_DRAIN_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
  idleGrace: Config.duration("HTTP_IDLE_GRACE").pipe(Config.withDefault(Duration.millis(250))),
  maxBodySize: Config.integer("HTTP_MAX_BODY_SIZE").pipe(Config.withDefault(1024 * 1024)),
  headersTimeout: Config.duration("HTTP_HEADERS_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
  requestTimeout: Config.duration("HTTP_REQUEST_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30)))
}

/**
 * {@link layer} with its options read through `Config`: {@link defaultConfig}'s variables, or the
 * caller's (`GracefulHttp.layerConfig({ ...GracefulHttp.defaultConfig, port: Config.integer("ADMIN_PORT") })`),
 * as `PgClient.layerConfig` takes them.
 *
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options> = defaultConfig
): Layer.Layer<
  HttpServer.HttpServer | GracefulHttp | HttpPlatform.HttpPlatform | Etag.Generator | NodeContext.NodeContext,
  ServeError | ConfigError.ConfigError,
  Lifecycle
> => Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
