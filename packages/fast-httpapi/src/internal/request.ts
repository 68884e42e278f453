/**
 * One request on the fast path: the steps of `HttpApiBuilder`'s pipeline in its order — GracefulHttp's
 * refusals, the policy, path, payload, headers and url params decoded, the handler, the success
 * encoded or the failure answered — with no Scope, no context copy, and no fiber at all when the
 * handler completes synchronously.
 *
 * @internal
 */
import type * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { GracefulHttp } from "@shop/lifecycle"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Runtime from "effect/Runtime"
import * as Supervisor from "effect/Supervisor"
import type * as Http from "node:http"
import type { RequestPolicy } from "../RequestPolicy.js"
import { type Target, writeEncoded, writeJson, writeResponse } from "./respond.js"
import { decodeError, type Encoded, encodeWith, type EndpointSchemas } from "./schemas.js"

/** An endpoint served on the fast path. */
export interface FastRoute {
  readonly fast: true
  /** The route template, e.g. `/v1/orders/:id`. */
  readonly path: string
  readonly schemas: EndpointSchemas
  readonly handler: HttpApiBuilder.Handlers.Item<unknown, unknown>["handler"]
  /** The server's runtime with the group's context: the handler runs in it. */
  readonly runtime: Runtime.Runtime<never>
  readonly uninterruptible: boolean
  /** Reads the body before anything is decoded: the endpoint has a payload, or the policy checks JSON text. */
  readonly readsBody: boolean
}

/** What every fast request shares. */
export interface Plan {
  readonly policy: RequestPolicy<unknown> | undefined
  readonly errors: ReadonlyArray<Encoded>
  readonly maxBodySize: number
  /** The server's runtime: for the policy's answers to defects and for streamed bodies. */
  readonly runtime: Runtime.Runtime<never>
  /** `runsSyncInPlace` of the server's runtime. */
  readonly syncInPlace: boolean
  /** Wraps a handler run in a server span, when a tracer is on. */
  readonly trace:
    | ((effect: Effect.Effect<unknown, unknown>, request: Http.IncomingMessage, route: string) => Effect.Effect<
      unknown,
      unknown
    >)
    | undefined
}

/** What the router found: the route and what it read from the URL. */
export interface Matched {
  readonly handler: FastRoute
  readonly params: Record<string, string | undefined>
  readonly searchParams: Record<string, string | Array<string>>
}

/** `request.text` as the platform reads it: decoded as UTF-8 chunk by chunk, counted after decoding. */
const readText = (target: Target, done: (text: string) => void) => {
  const { maxBodySize, request } = target
  let text = ""
  let bytes = 0
  request.setEncoding("utf8")
  request.on("data", (chunk: string) => {
    text += chunk
    bytes += Buffer.byteLength(chunk)
    // as the platform's body limit: the stream is destroyed, and the connection with it
    if (bytes > maxBodySize) request.destroy()
  })
  request.once("end", () => done(text))
}

/** The platform's defect for a body that is not JSON (`request.json` under `Effect.orDie`). */
const bodyDecodeError = (request: Http.IncomingMessage, cause: unknown) =>
  new HttpServerError.RequestError({ request: request as never, reason: "Decode", cause })

const isBodyDecodeError = (defect: unknown): defect is HttpServerError.RequestError =>
  HttpServerError.isServerError(defect) && defect._tag === "RequestError" && defect.reason === "Decode"

/** The contract's schema for the squashed cause, else the platform's own answer (500, 499, 503, a Respondable). */
const answerCause = (plan: Plan, target: Target, cause: Cause.Cause<unknown>): void => {
  const error = Cause.squash(cause)
  const encoded = encodeWith(plan.errors, error)
  if (encoded !== undefined && !ParseResult.isParseError(encoded)) {
    try {
      return writeEncoded(target, encoded.schema, encoded.encoded, plan.policy?.errorHeaders?.(error))
    } catch {
      // not JSON-encodable: the platform then answers with the cause's own response
    }
  }
  const [response] = Effect.runSync(HttpServerError.causeResponse(cause))
  if (!target.response.destroyed) writeResponse(target, response, plan.runtime)
}

/**
 * What `HttpApiBuilder` makes of a failure: a ParseError becomes `HttpApiDecodeError`; a defect goes
 * to the policy (whose own failures are answered, never given back to it); then the contract's errors.
 */
const answerFailure = (plan: Plan, target: Target, cause: Cause.Cause<unknown>): void => {
  const failure = Cause.failureOrCause(cause)
  if (Either.isLeft(failure) && ParseResult.isParseError(failure.left)) cause = Cause.fail(decodeError(failure.left))
  const defect = Cause.dieOption(cause)
  const policy = plan.policy
  if (Option.isNone(defect) || policy === undefined) return answerCause(plan, target, cause)
  if (policy.malformedJson !== undefined && isBodyDecodeError(defect.value)) {
    return answerCause(plan, target, Cause.fail(policy.malformedJson(defect.value.cause)))
  }
  if (policy.onDefect === undefined) return answerCause(plan, target, cause)
  const fiber = Runtime.runFork(plan.runtime)(policy.onDefect(defect.value))
  fiber.addObserver((exit) =>
    Exit.isSuccess(exit) ? writeResponse(target, exit.value, plan.runtime) : answerCause(plan, target, exit.cause)
  )
}

const answerSuccess = (plan: Plan, target: Target, route: FastRoute, value: unknown): void => {
  if (HttpServerResponse.isServerResponse(value)) {
    const writer = writeResponse(target, value, plan.runtime)
    if (writer !== undefined) interruptOnClose(target, writer)
    return
  }
  const encoded = encodeWith(route.schemas.success, value)
  if (encoded === undefined) return answerCause(plan, target, Cause.die(new Error("endpoint has no success schema")))
  if (ParseResult.isParseError(encoded)) return answerFailure(plan, target, Cause.fail(encoded))
  try {
    writeEncoded(target, encoded.schema, encoded.encoded)
  } catch (error) {
    // HttpServerResponse.json fails the same way, as a ParseError of the success schema
    answerFailure(
      plan,
      target,
      Cause.fail(ParseResult.parseError(
        new ParseResult.Type(
          route.schemas.success[0].ast,
          encoded.encoded,
          `Could not encode to JSON: ${error}`
        )
      ))
    )
  }
}

const interruptOnClose = (target: Target, fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
  target.response.once("close", () => {
    if (!target.response.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
  })

const finish = (plan: Plan, target: Target, route: FastRoute, exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit) ? answerSuccess(plan, target, route, exit.value) : answerFailure(plan, target, exit.cause)

/** `Exit.succeed`/`Exit.fail` values themselves: `Exit.isExit` also takes an error whose tag is "Success" or "Failure". */
const SuccessProto = Object.getPrototypeOf(Exit.void)
const FailureProto = Object.getPrototypeOf(Exit.fail(undefined))
const isDone = (effect: Effect.Effect<unknown, unknown>): effect is Exit.Exit<unknown, unknown> => {
  const proto = Object.getPrototypeOf(effect)
  return proto === SuccessProto || proto === FailureProto
}

/** Answers; whatever throws on the way (a header Node refuses, a throwing transformation) is a 500, not a hung request. */
const answering = (plan: Plan, target: Target, answer: () => void) => {
  try {
    answer()
  } catch (defect) {
    try {
      answerFailure(plan, target, Cause.die(defect))
    } catch {
      target.response.destroy()
    }
  }
}

/**
 * The thunk of an `Effect.sync(thunk)` (Effect 3's "Sync" primitive), else `undefined`. Checked against
 * a real `Effect.sync` once: should the representation ever change, nothing runs in place.
 */
const syncThunk = (effect: Effect.Effect<unknown, unknown>): (() => unknown) | undefined => {
  const primitive = effect as { readonly _op?: unknown; readonly effect_instruction_i0?: unknown }
  return primitive._op === "Sync" && typeof primitive.effect_instruction_i0 === "function"
    ? primitive.effect_instruction_i0 as () => unknown
    : undefined
}
const probe = {}
const syncRecognised = syncThunk(Effect.sync(() => probe))?.() === probe

/**
 * Whether a handler's `Effect.sync` may run in place, without a fiber: its thunk is plain code that
 * reads no FiberRef and cannot be interrupted, so a fiber would change nothing but the cost (~6 µs a
 * request: apps/bench/README.md) — unless a tracer makes a span of it or a supervisor watches fibers.
 * With Effect's default RuntimeMetrics flag, a request run in place is not counted in `effect_fiber_*`:
 * there is no fiber to count.
 */
export const runsSyncInPlace = (runtime: Runtime.Runtime<never>, traced: boolean): boolean =>
  syncRecognised && !traced && watchesNothing(FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentSupervisor))

/**
 * `Supervisor.none` and the copy the shop's layers leave in the runtime (seen in tests: equal, not the same object) are
 * `Supervisor.fromEffect` supervisors, whose hooks do nothing; any other may watch fibers.
 */
const watchesNothing = (supervisor: Supervisor.Supervisor<unknown>) =>
  Object.getPrototypeOf(supervisor) === Object.getPrototypeOf(Supervisor.none)

const run = (plan: Plan, target: Target, route: FastRoute, input: object) => {
  let effect = route.handler(input as never) as Effect.Effect<unknown, unknown>
  const thunk = plan.syncInPlace ? syncThunk(effect) : undefined
  if (thunk !== undefined) {
    let value: unknown
    let threw = false
    try {
      value = thunk()
    } catch (defect) {
      // answered as a fiber answers a throwing thunk (a defect; an InterruptedException, an interruption)
      threw = true
      effect = Effect.sync(() => {
        throw defect
      })
    }
    if (!threw) return answering(plan, target, () => answerSuccess(plan, target, route, value))
  }
  if (route.uninterruptible) effect = Effect.uninterruptible(effect)
  if (plan.trace !== undefined) effect = plan.trace(effect, target.request, route.path)
  // already done (`Effect.succeed(...)`): no fiber at all
  if (isDone(effect)) return answering(plan, target, () => finish(plan, target, route, effect))
  // as the platform: a client that hangs up interrupts the handler, unless it is uninterruptible
  const onClose = () => {
    if (!target.response.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
  }
  let answered = false
  const answer = (f: () => void) => {
    answered = true
    target.response.removeListener("close", onClose)
    answering(plan, target, f)
  }
  // The fiber answers as its last step and ends with `void`, and the abort listener goes when it has
  // answered: a finished fiber holds nothing of its request. (Effect keeps every root fiber in a global
  // Set; V8 re-allocates that Set's tables in the old generation, and a fiber a dead table still points
  // to survives until the next full GC, with whatever it still references.) An interrupted fiber —
  // the client went away — answers nothing.
  const fiber = Runtime.runFork(route.runtime)(Effect.matchCause(effect, {
    onSuccess: (value) => answer(() => answerSuccess(plan, target, route, value)),
    onFailure: (cause) => answer(() => answerFailure(plan, target, cause))
  }))
  // A fiber runs synchronously from `runFork` until its first async step or yield (not `runSyncExit`:
  // it makes a scheduler and an exception object per request): if it has answered by then, it is done.
  if (!route.uninterruptible && !answered) target.response.once("close", onClose)
}

/** The decoded request, in `HttpApiBuilder`'s order: path, payload, headers, url params. */
const decodeAndRun = (plan: Plan, target: Target, matched: Matched, text: string | undefined) => {
  const route = matched.handler
  const { schemas } = route
  const input: Record<string, unknown> = {}
  if (schemas.decodePath !== undefined) {
    const path = schemas.decodePath(matched.params)
    if (Either.isLeft(path)) return answerFailure(plan, target, Cause.fail(path.left))
    input.path = path.right
  }
  if (schemas.decodePayload !== undefined) {
    let json: unknown
    try {
      json = text === undefined || text === "" ? null : JSON.parse(text)
    } catch (cause) {
      return answerFailure(plan, target, Cause.die(bodyDecodeError(target.request, cause)))
    }
    const payload = schemas.decodePayload(json)
    if (Either.isLeft(payload)) return answerFailure(plan, target, Cause.fail(payload.left))
    input.payload = payload.right
  }
  if (schemas.decodeHeaders !== undefined) {
    const headers = schemas.decodeHeaders(target.request.headers)
    if (Either.isLeft(headers)) return answerFailure(plan, target, Cause.fail(headers.left))
    input.headers = headers.right
  }
  if (schemas.decodeUrlParams !== undefined) {
    const urlParams = schemas.decodeUrlParams(matched.searchParams)
    if (Either.isLeft(urlParams)) return answerFailure(plan, target, Cause.fail(urlParams.left))
    input.urlParams = urlParams.right
  }
  run(plan, target, route, input)
}

/**
 * Serves a request the router matched to a fast route. The caller already sent everything else
 * (other routes, `HEAD`, bodies that are not JSON) to the standard handler.
 */
export const serveFast = (
  plan: Plan,
  matched: Matched,
  request: Http.IncomingMessage,
  response: Http.ServerResponse
) => {
  const target: Target = { request, response, maxBodySize: plan.maxBodySize }
  const refused = GracefulHttp.refusal(request, plan.maxBodySize)
  if (refused !== undefined) return writeJson(target, refused.status, refused.body, { connection: "close" })
  const policy = plan.policy
  const refusedByPolicy = policy?.checkRequest?.(request as never)
  if (refusedByPolicy !== undefined) return answerFailure(plan, target, Cause.fail(refusedByPolicy))
  if (!matched.handler.readsBody) return decodeAndRun(plan, target, matched, undefined)
  readText(target, (text) => {
    const tooBad = policy?.checkJsonText?.(text)
    if (tooBad !== undefined) return answerFailure(plan, target, Cause.fail(tooBad))
    decodeAndRun(plan, target, matched, text)
  })
}
