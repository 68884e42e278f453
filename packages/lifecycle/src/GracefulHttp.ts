/**
 * An `HttpServer` for `HttpServer.serve` / `HttpApiBuilder.serve` that drains before it stops.
 *
 * The v3 `NodeHttpServer` removes its request listener first and calls `server.close()` later,
 * with no deadline: requests arriving in between hang with no handler, and a slow request holds the
 * shutdown forever while the layers it needs (the database) may already be closed. This server
 * drains inside the serve step itself, before anything the handlers depend on is released:
 *
 * 1. enter `draining`: every response from now on carries `Connection: close`;
 * 2. after `preStopDelay` (time for load balancers to notice `/readyz` failing), stop accepting and
 *    close idle keep-alive sockets;
 * 3. wait for in-flight requests up to `drainTimeout`, then cut the remaining connections and log how many.
 *
 * Every error response it sends has a JSON body (see `HttpJsonErrors`). It answers oversized bodies with `413` and a JSON body (by `Content-Length`), instead of
 * the connection reset the platform's body limit produces; and what Node answers by itself with an
 * empty body (unparseable requests, headers too large or too slow, bodies too slow, HTTP/1.1 without
 * `Host`, an unknown `Expect`) or not at all (`CONNECT`) gets the same status with a JSON body.
 *
 * @since 0.1.0
 */
import type * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as Etag from "@effect/platform/Etag"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Net from "node:net"
import * as HttpJsonErrors from "./HttpJsonErrors.js"
import { installJsonClientErrors } from "./internal/clientErrors.js"
import { Lifecycle } from "./Lifecycle.js"

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
 * @since 0.1.0
 */
export interface GracefulHttpService {
  /** The underlying Node server (listening once the layer is built). */
  readonly server: Http.Server
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number
  readonly stats: Effect.Effect<Stats>
}

/**
 * @since 0.1.0
 */
export class GracefulHttp extends Context.Tag("@shop/lifecycle/GracefulHttp")<GracefulHttp, GracefulHttpService>() {}

const ms = (input: Duration.DurationInput) => Duration.toMillis(Duration.decode(input))

/**
 * Answers 413 with a JSON body when the declared body is too large, and bounds chunked bodies too
 * (those can only be cut off: the platform resets the connection).
 */
const limitBody = (maxBodySize: number) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    // Node's own check (requireHostHeader) answers with an empty body; it is off, so answer here.
    if (request.headers.host === undefined && NodeHttpServerRequest.toIncomingMessage(request).httpVersion === "1.1") {
      return Effect.succeed(HttpServerResponse.unsafeJson({
        _tag: "BadRequest",
        message: "an HTTP/1.1 request must have a Host header"
      }, { status: 400, headers: { connection: "close" } }))
    }
    const declared = Number(request.headers["content-length"] ?? 0)
    if (declared > maxBodySize) {
      return Effect.succeed(HttpServerResponse.unsafeJson({
        _tag: "PayloadTooLarge",
        message: `request body of ${declared} bytes exceeds the limit of ${maxBodySize} bytes`
      }, { status: 413, headers: { connection: "close" } }))
    }
    return HttpServerRequest.withMaxBodySize(app, Option.some(maxBodySize))
  })

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
    const server = Http.createServer({
      keepAliveTimeout: ms(options.keepAliveTimeout ?? "5 seconds"),
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(10, Math.floor(shortestTimeout / 4)),
      // answered below, with a JSON body instead of Node's empty one
      requireHostHeader: false
    })
    const sockets = new Set<Net.Socket>()
    const responses = new Set<Http.ServerResponse>()
    let draining = false

    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    })
    installJsonClientErrors(server, { requestTimeout, headersTimeout })
    // Registered before the Effect handler, so it sees every request first.
    server.on("request", (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
      responses.add(response)
      response.once("close", () => responses.delete(response))
      if (draining) response.setHeader("connection", "close")
    })

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
      Effect.zipRight(Effect.sync(() => {
        server.closeIdleConnections()
        // Node does not count a connection that never sent a byte as idle (a browser's pre-connect,
        // a fetch aborted while connecting): it would hold the drain until the client's own
        // keep-alive timeout (undici's: 4 s). Nothing was asked on it, so nothing is cut.
        for (const socket of sockets) {
          if (socket.bytesRead === 0) socket.destroy()
        }
      })),
      Effect.zipRight(Effect.never)
    )

    const drain = Effect.gen(function*() {
      yield* lifecycle.beginDrain("http server closing")
      draining = true
      for (const response of responses) {
        if (!response.headersSent) response.setHeader("connection", "close")
      }
      if (Duration.toMillis(preStopDelay) > 0) {
        yield* Effect.log(`http: draining, still serving for ${Duration.format(preStopDelay)}`)
        yield* Effect.sleep(preStopDelay).pipe(Effect.interruptible)
      }
      const inFlightAtClose = responses.size
      yield* Effect.log(`http: closed listener, waiting for ${inFlightAtClose} in-flight request(s)`)
      const closed = yield* Effect.raceFirst(closeListener, closeIdleAfterGrace).pipe(
        Effect.interruptible, // finalizers are uninterruptible: without this the timeout never fires
        Effect.timeoutOption(drainTimeout)
      )
      if (Option.isNone(closed)) {
        const cutRequests = responses.size
        const cutConnections = sockets.size
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
        yield* Effect.logWarning(
          `http: drain timeout of ${
            Duration.format(drainTimeout)
          } passed; cut ${cutConnections} connection(s) with ${cutRequests} request(s) in flight`
        )
      }
    }).pipe(lifecycle.step("http drain", { pending: () => `${responses.size} request(s) in flight` }))
    const drainOnce = yield* Effect.once(drain)

    const httpServer = HttpServer.make({
      address: inner.address,
      serve: (app, middleware) =>
        Effect.gen(function*() {
          const limited = Effect.zipRight(
            HttpApp.appendPreResponseHandler(HttpJsonErrors.preResponseHandler),
            limitBody(maxBodySize)(app)
          )
          yield* (middleware === undefined ? inner.serve(limited) : inner.serve(limited, middleware as any))
          // Added after the inner serve step, so it runs BEFORE the request listener is removed and
          // before any layer the handlers depend on is released.
          yield* Effect.addFinalizer(() => drainOnce)
        })
    })
    // Fallback when nothing was served through this server: still stop accepting in order.
    yield* Effect.addFinalizer(() => drainOnce)

    const port = inner.address._tag === "TcpAddress" ? inner.address.port : 0
    return Context.make(HttpServer.HttpServer, httpServer).pipe(
      Context.add(GracefulHttp, {
        server,
        port,
        stats: Effect.sync(() => ({ connections: sockets.size, inFlight: responses.size, draining }))
      })
    )
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
 * Reads `PORT` (8080), `HOST`, `SHUTDOWN_DELAY` (0), `HTTP_DRAIN_TIMEOUT` (10 seconds), `HTTP_IDLE_GRACE`
 * (250 millis),
 * `HTTP_MAX_BODY_SIZE` (1 MiB, in bytes), `HTTP_HEADERS_TIMEOUT` (10 seconds) and
 * `HTTP_REQUEST_TIMEOUT` (30 seconds; a request not fully received by then gets 408).
 *
 * @since 0.1.0
 */
export const layerConfig: Layer.Layer<
  HttpServer.HttpServer | GracefulHttp | HttpPlatform.HttpPlatform | Etag.Generator | NodeContext.NodeContext,
  ServeError | import("effect/ConfigError").ConfigError,
  Lifecycle
> = Layer.unwrapEffect(
  Effect.map(
    Config.all({
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
    }),
    layer
  )
)
