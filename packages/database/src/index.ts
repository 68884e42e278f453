/**
 * `@shop/database`: PostgreSQL for the shop. Test helpers live in `@shop/database/testing`, so that
 * production code never loads vitest.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Database from "./Database.js"

/**
 * @since 0.1.0
 */
export * as EmbeddedPostgres from "./EmbeddedPostgres.js"

/**
 * @since 0.1.0
 */
export * as Migrations from "./Migrations.js"

/**
 * @since 0.1.0
 */
export * as PgDirect from "./PgDirect.js"

/**
 * @since 0.2.0
 */
export * as DatabaseUnavailable from "./DatabaseUnavailable.js"
