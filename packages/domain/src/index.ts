/**
 * @since 0.1.0
 */

/**
 * The HTTP contract: `ShopApi` and its groups.
 *
 * @since 0.1.0
 */
export * as Api from "./Api.js"

/**
 * Normalized e-mail addresses.
 *
 * @since 0.1.0
 */
export * as Email from "./Email.js"

/**
 * Wire errors with their HTTP statuses.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * Bodies of `/healthz` and `/readyz`.
 *
 * @since 0.1.0
 */
export * as Health from "./Health.js"

/**
 * Order schemas.
 *
 * @since 0.1.0
 */
export * as Order from "./Order.js"

/**
 * The pure order life cycle.
 *
 * @since 0.1.0
 */
export * as OrderStateMachine from "./OrderStateMachine.js"

/**
 * Account schemas.
 *
 * @since 0.1.0
 */
export * as User from "./User.js"
