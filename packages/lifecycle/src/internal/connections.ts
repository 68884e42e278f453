/**
 * The connections and responses of a Node server, as the drain needs to see them.
 *
 * @internal
 */
import type * as Http from "node:http"
import type * as Net from "node:net"
import * as LifecycleMetrics from "../LifecycleMetrics.js"
import { SlotSet } from "./slotSet.js"

const noLabels: ReadonlyArray<never> = []

/** @internal */
export interface Connections {
  /** Open TCP connections (for TLS, the sockets under the TLS layer). */
  readonly sockets: ReadonlySet<Net.Socket>
  /** Responses not finished yet: the requests in flight. */
  readonly responses: { readonly size: number } & Iterable<Http.ServerResponse>
  readonly isDraining: () => boolean
  /**
   * From now on every response says `Connection: close`, and every connection is closed as soon as its
   * last response is done.
   */
  readonly beginDraining: () => void
  /**
   * Closes the connections that are idle: no response in flight and no request arriving on them
   * (including those on which no byte of HTTP ever arrived). Nothing that was asked is cut.
   */
  readonly closeIdle: () => void
  /** Destroys every connection. */
  readonly cutAll: () => void
}

/** The response a socket is serving: Node keeps the current (or next pipelined) one in `_httpMessage`. */
const isServing = (socket: Net.Socket) => (socket as { _httpMessage?: unknown })._httpMessage != null

/**
 * Starts tracking. Registered before any request handler, so it sees every request first.
 *
 * @internal
 */
export const track = (server: Http.Server): Connections => {
  const sockets = new Set<Net.Socket>()
  // not a Set: one add and one delete per request made old-generation garbage (see SlotSet)
  const responses = new SlotSet<Http.ServerResponse>()
  // the socket HTTP is read from: the TCP socket itself, or the TLS socket over it once the handshake is done
  const httpSocket = new WeakMap<Net.Socket, Net.Socket>()
  // bytes read when the socket's last response was done: more since then means a request is arriving
  const bytesAtIdle = new WeakMap<Net.Socket, number>()
  let draining = false

  server.on("connection", (socket: Net.Socket) => {
    sockets.add(socket)
    LifecycleMetrics.httpOpenConnections.unsafeModify(1, noLabels)
    httpSocket.set(socket, socket)
    socket.once("close", () => {
      sockets.delete(socket)
      LifecycleMetrics.httpOpenConnections.unsafeModify(-1, noLabels)
    })
  })
  server.on("secureConnection", (socket: Net.Socket) => {
    const tcp = (socket as { _parent?: Net.Socket })._parent
    if (tcp !== undefined) httpSocket.set(tcp, socket)
  })
  server.on("request", (request: Http.IncomingMessage, response: Http.ServerResponse) => {
    responses.add(response)
    LifecycleMetrics.httpActiveRequests.unsafeModify(1, noLabels)
    const socket = request.socket
    response.once("close", () => {
      responses.delete(response)
      LifecycleMetrics.httpActiveRequests.unsafeModify(-1, noLabels)
      if (socket.destroyed || isServing(socket)) return
      bytesAtIdle.set(socket, socket.bytesRead)
      // A response whose headers went out with keep-alive before the drain began would otherwise
      // leave its connection open, idle, until Node's keep-alive timeout or the drain timeout.
      if (draining) socket.destroySoon()
    })
    if (draining) response.setHeader("connection", "close")
  })

  return {
    sockets,
    responses,
    isDraining: () => draining,
    beginDraining: () => {
      draining = true
      for (const response of responses) {
        if (!response.headersSent) response.setHeader("connection", "close")
      }
    },
    // Not `server.closeIdleConnections()`: it also destroys a connection whose response has called
    // `end()` but is still being flushed to a slow reader (a long download, cut short), and it does not
    // count a connection that never sent a byte of HTTP as idle (a browser's pre-connect, a fetch aborted
    // while connecting, a TLS handshake and nothing after it), which then holds the drain until the
    // client's own keep-alive timeout (undici's: 4 s).
    closeIdle: () => {
      for (const socket of sockets) {
        const http = httpSocket.get(socket)
        const idle = http === undefined || http.bytesRead === 0 ||
          (!isServing(http) && bytesAtIdle.get(http) === http.bytesRead)
        if (idle) socket.destroy()
      }
    },
    cutAll: () => {
      server.closeAllConnections()
      for (const socket of sockets) socket.destroy()
    }
  }
}
