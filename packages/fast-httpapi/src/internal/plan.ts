/**
 * Start-up: which route the fast path serves and which the standard handler keeps, decided once per
 * route from the API, the captured handlers and the standard router (which also holds routes that are
 * not endpoints: Swagger UI, `/openapi.json`, raw routes). The fast router is built from every route
 * of the standard one, so both resolve a URL to the same route.
 *
 * @internal
 */
import type * as HttpApi from "@effect/platform/HttpApi"
import type * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpMethod from "@effect/platform/HttpMethod"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as FindMyWay from "find-my-way-ts"
import type { RequestPolicy } from "../RequestPolicy.js"
import { type CapturedGroup, tagFor } from "./handlers.js"
import type { FastRoute } from "./request.js"
import { compile } from "./schemas.js"

/** A route the standard handler serves, and why. */
export interface StandardRoute {
  readonly fast: false
  readonly path: string
  readonly reason: string
}

export type Entry = FastRoute | StandardRoute

export interface RoutePlan {
  readonly router: FindMyWay.Router<Entry>
  /** Path prefixes of mounted apps: the standard router tries them before any route. */
  readonly mounts: ReadonlyArray<string>
  readonly fast: ReadonlyArray<string>
  readonly standard: ReadonlyArray<string>
}

export interface PlanInput {
  readonly api: HttpApi.HttpApi.AnyWithProps
  /** The context `HttpApiBuilder.api` captured: the groups' handlers are in it. */
  readonly apiContext: Context.Context<never>
  readonly standardRouter: HttpRouter.HttpRouter<unknown, unknown>
  readonly routerConfig: Partial<FindMyWay.RouterConfig>
  readonly runtime: Runtime.Runtime<never>
  /** The API's middleware: nothing, a policy, or something the fast path cannot run. */
  readonly middleware:
    | { readonly _tag: "None" }
    | { readonly _tag: "Policy"; readonly policy: RequestPolicy<unknown> }
    | {
      readonly _tag: "Other"
    }
}

interface Endpoint {
  readonly group: HttpApiGroup.HttpApiGroup.AnyWithProps
  readonly endpoint: HttpApiEndpoint.HttpApiEndpoint.AnyWithProps
}

const hasMultipartPayload = (endpoint: HttpApiEndpoint.HttpApiEndpoint.AnyWithProps) =>
  Option.exists(
    endpoint.payloadSchema,
    ({ ast }) => HttpApiSchema.getMultipart(ast) !== undefined || HttpApiSchema.getMultipartStream(ast) !== undefined
  )

export const plan = (input: PlanInput): RoutePlan => {
  const { api } = input
  const endpoints = new Map<string, Endpoint>()
  for (const group of Object.values(api.groups)) {
    for (const endpoint of Object.values(group.endpoints)) {
      endpoints.set(`${endpoint.method} ${endpoint.path}`, { group, endpoint })
    }
  }
  const runtimes = new Map<CapturedGroup, Runtime.Runtime<never>>()
  const runtimeOf = (captured: CapturedGroup) => {
    let runtime = runtimes.get(captured)
    if (runtime === undefined) {
      runtime = Runtime.make({
        // as HttpApiBuilder runs a handler: the group's context, overridden by the server's
        context: Context.merge(captured.context, input.runtime.context),
        fiberRefs: input.runtime.fiberRefs,
        runtimeFlags: input.runtime.runtimeFlags
      })
      runtimes.set(captured, runtime)
    }
    return runtime
  }
  const policy = input.middleware._tag === "Policy" ? input.middleware.policy : undefined

  const entryFor = (route: HttpRouter.Route<unknown, unknown>): Entry => {
    const standard = (reason: string): StandardRoute => ({ fast: false, path: route.path, reason })
    const found = endpoints.get(`${route.method} ${route.path}`)
    if (found === undefined) return standard("not an endpoint of the HttpApi")
    const { endpoint, group } = found
    if (input.middleware._tag === "Other") return standard("an HttpApiBuilder.middleware that is not a RequestPolicy")
    if (api.middlewares.size + group.middlewares.size + endpoint.middlewares.size > 0) {
      return standard("HttpApiMiddleware")
    }
    const captured = Context.getOption(input.apiContext, tagFor(api.identifier, group.identifier))
    if (Option.isNone(captured)) return standard("its group's handlers are not written with FastHttpApi.group")
    const item = Chunk.findFirst(captured.value.handlers, (item) => item.endpoint.name === endpoint.name)
    if (Option.isNone(item)) return standard("no handler")
    if (item.value.withFullRequest) return standard("handleRaw (the handler reads the request itself)")
    if (hasMultipartPayload(endpoint)) return standard("multipart payload")
    const hasBody = HttpMethod.hasBody(endpoint.method)
    if (Option.isSome(endpoint.payloadSchema) && !hasBody) return standard("payload read from the url")
    return {
      fast: true,
      path: route.path,
      schemas: compile(endpoint),
      handler: item.value.handler,
      runtime: runtimeOf(captured.value),
      uninterruptible: item.value.uninterruptible,
      readsBody: hasBody && (Option.isSome(endpoint.payloadSchema) || policy?.checkJsonText !== undefined)
    }
  }

  const router = FindMyWay.make<Entry>(input.routerConfig)
  const fast: Array<string> = []
  const standard: Array<string> = []
  for (const route of Chunk.toReadonlyArray(input.standardRouter.routes)) {
    const entry = entryFor(route)
    if (route.method === "*") router.all(route.path, entry)
    else router.on(route.method, route.path, entry)
    const name = `${route.method} ${route.path}`
    if (entry.fast) fast.push(name)
    else standard.push(`${name} (${entry.reason})`)
  }
  const mounts = Chunk.toReadonlyArray(input.standardRouter.mounts).map(([path]) => path)
  return { router, mounts, fast, standard }
}
