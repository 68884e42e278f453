/**
 * Serve an Effect 3 `HttpApi` at Fastify's speed, with the drain guarantees of `GracefulHttp`.
 *
 * @since 0.1.0
 */
export * as FastHttpApi from "./FastHttpApi.js"
export * as RequestMetrics from "./RequestMetrics.js"
export * as RequestPolicy from "./RequestPolicy.js"
