/**
 * The shop schema, applied at start-up.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as PgMigrator from "@effect/sql-pg/PgMigrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Applied migrations are recorded here (the `@effect/sql` default).
 *
 * @since 0.1.0
 */
export const table = "effect_sql_migrations"

const statements = (...sql: ReadonlyArray<string>): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (client) => Effect.forEach(sql, (_) => client.unsafe(_), { discard: true }))

/**
 * The migrations, by `<id>_<name>`. Never edit one that has shipped: add the next id instead.
 *
 * @since 0.1.0
 */
export const migrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "0001_users": statements(
    `CREATE TABLE users (
      id bigserial PRIMARY KEY,
      name text NOT NULL,
      email text NOT NULL,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    // e-mail addresses are compared case-insensitively at sign-up and login
    `CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`
  ),
  "0002_outbox": statements(
    `CREATE TABLE outbox (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      recipient text NOT NULL,
      subject text NOT NULL,
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz NULL,
      attempts int NOT NULL DEFAULT 0,
      last_error text NULL,
      locked_until timestamptz NULL
    )`,
    // the sender only ever scans unsent rows; sent ones pile up and must not slow it down
    `CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL`
  ),
  "0003_orders": statements(
    `CREATE TABLE orders (
      id bigserial PRIMARY KEY,
      email text NOT NULL,
      status text NOT NULL
        CHECK (status IN ('pending', 'paid', 'picking', 'packed', 'shipped', 'delivered', 'cancelled')),
      total_cents bigint NOT NULL CHECK (total_cents >= 0),
      tracking_number text NULL,
      idempotency_key text NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    // workers claim "the oldest orders in status X"
    `CREATE INDEX orders_status_id_idx ON orders (status, id)`,
    `CREATE TABLE order_items (
      order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
      line int NOT NULL,
      sku text NOT NULL,
      quantity int NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
      unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
      PRIMARY KEY (order_id, line)
    )`,
    // one row per transition; the unique key is what makes a transition happen at most once
    `CREATE TABLE order_events (
      id bigserial PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders (id),
      from_status text NOT NULL,
      to_status text NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (order_id, to_status)
    )`
  ),
  "0004_carrier": statements(
    // Booking a packed order with the carrier: a lease (owner + expiry) instead of a long lock, so a
    // crashed replica's orders come back after seconds; attempts, backoff and a visible failed flag.
    `ALTER TABLE orders
      ADD COLUMN shipment_id text NULL,
      ADD COLUMN lease_owner text NULL,
      ADD COLUMN leased_until timestamptz NULL,
      ADD COLUMN carrier_attempts int NOT NULL DEFAULT 0,
      ADD COLUMN carrier_next_attempt_at timestamptz NULL,
      ADD COLUMN carrier_last_error text NULL,
      ADD COLUMN carrier_failed boolean NOT NULL DEFAULT false`,
    // the dispatcher scans only packed orders that are not given up on
    `CREATE INDEX orders_bookable_idx ON orders (id) WHERE status = 'packed' AND NOT carrier_failed`,
    // where the tracking feed is, advanced in the same transaction as the event's effect
    `CREATE TABLE carrier_feed (
      name text PRIMARY KEY,
      cursor bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`
  ),
  // The fulfillment claim (`status IN ('paid','picking') ORDER BY id LIMIT n`) walked the primary key
  // past every finished order, a cost growing without bound (apps/bench/README.md, "Findings"). Only
  // unfinished orders are in this index, so the claim's cost does not grow with history.
  "0005_fulfillment_index": statements(
    `CREATE INDEX orders_fulfillable_idx ON orders (id) WHERE status IN ('paid', 'picking')`
  ),
  // `now()` is the transaction's start: a fulfillment tick that began before a pay committed stamped
  // its `picking` event earlier than the `paid` it followed (seen in CI). The clock at the insert is
  // after every event the transition read, so an order's events are stamped in the order they happened.
  "0006_event_clock": statements(
    `ALTER TABLE order_events ALTER COLUMN at SET DEFAULT clock_timestamp()`
  )
}

/**
 * The migrator's own table check is not safe for replicas starting together on a fresh database:
 * both see no table and both `CREATE TABLE` it, and the loser fails. Create it first, serialised by
 * a transaction-scoped advisory lock; the migrator's `LOCK TABLE` then serialises the migrations.
 */
const ensureTable = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.withTransaction(Effect.zipRight(
    sql`SELECT pg_advisory_xact_lock(hashtext(${table}))`,
    sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
      migration_id integer PRIMARY KEY,
      created_at timestamptz NOT NULL DEFAULT now(),
      name text NOT NULL
    )`
  )))

/**
 * Applies the pending migrations in one transaction and returns them as `[id, name]`; an empty
 * array when there were none, or when another replica applied them concurrently.
 *
 * @since 0.1.0
 */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  PgMigrator.MigrationError | SqlError,
  PgClient.PgClient | SqlClient.SqlClient
> = ensureTable.pipe(
  Effect.zipRight(PgMigrator.run({ loader: PgMigrator.fromRecord(migrations), table })),
  // the migrator asks for a file system and a command executor, only to dump schemas, which we do not
  Effect.provide(NodeContext.layer),
  Effect.withSpan("Migrations.run")
)

/**
 * Runs {@link run} when built. Compose it with `Layer.provideMerge(Migrations.layer, clientLayer)` so
 * that the client is only handed out once the schema is in place (or use `Database.layerMigrated`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, PgMigrator.MigrationError | SqlError, PgClient.PgClient | SqlClient.SqlClient> =
  Layer.effectDiscard(run)
