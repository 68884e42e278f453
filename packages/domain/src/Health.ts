/**
 * Bodies of the operational endpoints (`/healthz`, `/readyz`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `/healthz`: the process is alive. It says nothing about dependencies, so orchestrators restart on it
 * only when the process itself is stuck.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Healthy = Schema.Struct({ status: Schema.Literal("ok") }).annotations({ identifier: "Healthy" })

/**
 * One dependency probe, e.g. `{ name: "database", ok: false, error: "no answer within 1s" }`. Same shape
 * as `@shop/lifecycle`'s `CheckResult`, so its readiness report can be returned as is.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReadinessCheck = Schema.Struct({
  name: Schema.String,
  ok: Schema.Boolean,
  error: Schema.optionalWith(Schema.String, { exact: true })
}).annotations({ identifier: "ReadinessCheck" })

/**
 * @since 0.1.0
 * @category models
 */
export interface ReadinessCheck extends Schema.Schema.Type<typeof ReadinessCheck> {}

/**
 * The service's lifecycle phase as `/readyz` reports it. A plain string: the phase names belong to
 * `@shop/lifecycle`, which this pure package does not depend on, so the two need not change in lock-step.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReadinessPhase = Schema.String.annotations({
  description: "The service's lifecycle phase, e.g. running, draining, stopping"
})

/**
 * `/readyz` when the instance should receive traffic.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Ready = Schema.Struct({
  status: Schema.Literal("ready"),
  phase: ReadinessPhase,
  checks: Schema.Array(ReadinessCheck)
}).annotations({ identifier: "Ready" })
