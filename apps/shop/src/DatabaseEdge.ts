/**
 * Where the shop's request path meets the database: a `SqlError` that means "out of reach" becomes
 * the contract's `ServiceUnavailable` (503 with `Retry-After`, see `HttpErrors.ts`), any other dies.
 * A write cut this way may or may not have committed: a retry of a pay or cancel then gets its 409, an
 * order retried with its `Idempotency-Key` its original.
 */
import { DatabaseUnavailable } from "@shop/database"
import { ServiceUnavailable } from "@shop/domain/Errors"

export const refineSqlError = DatabaseUnavailable.refine(() =>
  new ServiceUnavailable({ message: "the database is busy; retry shortly" })
)
