/**
 * Test support for packages whose tests touch SQL. Pair it with `@shop/database/globalSetup` in the
 * package's vitest config (see the README).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as TestDatabase from "./TestDatabase.js"
