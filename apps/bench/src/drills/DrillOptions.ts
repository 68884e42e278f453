/**
 * `node apps/bench/dist/drills/main.js <drill> [--rounds N] [--replicas N] [--clients N]`: the flags
 * through `Flags` (as bench and compare read theirs), the drill's name its one positional. Each flag
 * sets a `DRILL_*` key (so `DRILL_ROUNDS=5` in the environment works too), read by {@link config},
 * whose messages say what was wrong; `parseFlags` reads it at once so that bad input exits 2 with
 * the usage before anything starts.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Flags from "../Flags.js"

export const drills = ["sigterm", "sigkill", "replicas"] as const
export type DrillName = typeof drills[number]

/** Database faults on a private PostgreSQL of its own (no DATABASE_URL, only `--clients`): see DbFaults.ts. */
export interface DbFaultsArgs {
  readonly drill: "dbfaults"
  readonly clients: number
}

export interface DrillArgs {
  readonly drill: DrillName
  readonly rounds: number
  readonly replicas: number
  /** Concurrent client loops driving the mix of requests. */
  readonly clients: number
  /** `--shop-env KEY=VALUE` overrides of the replicas' settings (e.g. SHUTDOWN_DELAY). */
  readonly shopEnv: Record<string, string>
}

/** Set by the drill itself: not overridable. */
const fixedShopEnv = ["DATABASE_URL", "CARRIER_URL", "MAIL_DIR", "PORT", "HOST", "LOG_FORMAT", "SHUTDOWN_TIMEOUT"]

/** Defaults per drill: rounds, replicas. */
export const defaults: Record<DrillName, { readonly rounds: number; readonly replicas: number }> = {
  sigterm: { rounds: 50, replicas: 1 },
  sigkill: { rounds: 30, replicas: 1 },
  replicas: { rounds: 30, replicas: 3 }
}

export const defaultClients = 4

export const usage = `usage: node apps/bench/dist/drills/main.js <drill> [--rounds N] [--replicas N] [--clients N]

drills:
  sigterm    SIGTERM a random replica each round (default 50 rounds, 1 replica); exit 0, no broken request
  sigkill    SIGKILL a random replica each round (default 30 rounds, 1 replica); nothing acknowledged is lost
  replicas   SIGTERM or SIGKILL at random (default 30 rounds, 3 replicas)

options:
  --rounds N     rounds (one signal each)
  --replicas N   shop processes kept running on the one database (1..8)
  --clients N    concurrent client loops (default ${defaultClients}, 1..32)
  --shop-env K=V an extra setting for every replica, repeatable (e.g. --shop-env SHUTDOWN_DELAY="1 second")

environment:
  DATABASE_URL   required: a PostgreSQL server the drill may create a database drill_<random> on
                 (e.g. postgres://postgres@127.0.0.1:5432/test); the database is dropped at the end

exit code: 0 when every invariant held, 1 when one broke, 2 on bad usage or a setup failure`

const integerFlag = (
  name: string,
  raw: string | undefined,
  min: number,
  max: number
): Either.Either<number | undefined, string> => {
  if (raw === undefined) return Either.right(undefined)
  if (!/^\d+$/.test(raw)) return Either.left(`${name} expects an integer, got "${raw}"`)
  const value = Number(raw)
  return value < min || value > max ? Either.left(`${name} must be between ${min} and ${max}`) : Either.right(value)
}

const shopEnvFlag = (raw: string | undefined): Either.Either<Record<string, string>, string> => {
  const shopEnv: Record<string, string> = {}
  for (const entry of raw === undefined ? [] : raw.split(Flags.repeatedSeparator)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(entry)
    if (match === null) return Either.left(`--shop-env expects KEY=VALUE, got ${entry || "nothing"}`)
    if (fixedShopEnv.includes(match[1])) return Either.left(`--shop-env cannot change ${match[1]}`)
    shopEnv[match[1]] = match[2]
  }
  return Either.right(shopEnv)
}

const drillName = (raw: string | undefined): Either.Either<DrillName | "dbfaults", string> =>
  raw === undefined
    ? Either.left("which drill? (one of " + drills.join(", ") + ")")
    : raw === "dbfaults" || (drills as ReadonlyArray<string>).includes(raw)
    ? Either.right(raw as DrillName | "dbfaults")
    : Either.left(`unknown drill "${raw}" (one of ${drills.join(", ")})`)

const raw = (key: string) =>
  Config.option(Config.string(key)).pipe(Config.map((o) => o._tag === "Some" ? o.value : undefined))

/** The drill and its settings; fails with the first thing that is wrong, said as the usage says it. */
export const config: Config.Config<DrillArgs | DbFaultsArgs> = Config.all({
  drill: raw("DRILL"),
  rounds: raw("DRILL_ROUNDS"),
  replicas: raw("DRILL_REPLICAS"),
  clients: raw("DRILL_CLIENTS"),
  shopEnv: raw("DRILL_SHOP_ENV")
}).pipe(Config.mapOrFail((given) => {
  const args = Either.gen(function*() {
    const drill = yield* drillName(given.drill)
    const rounds = yield* integerFlag("--rounds", given.rounds, 1, 10_000)
    const replicas = yield* integerFlag("--replicas", given.replicas, 1, 8)
    const clients = (yield* integerFlag("--clients", given.clients, 1, 32)) ?? defaultClients
    const shopEnv = yield* shopEnvFlag(given.shopEnv)
    if (drill === "dbfaults") return { drill, clients } satisfies DbFaultsArgs
    const fallback = defaults[drill]
    return { drill, rounds: rounds ?? fallback.rounds, replicas: replicas ?? fallback.replicas, clients, shopEnv }
  })
  return Either.mapLeft(args, (message) => ConfigError.InvalidData([], message))
}))

const valued = { rounds: "DRILL_ROUNDS", replicas: "DRILL_REPLICAS", clients: "DRILL_CLIENTS" } as const

/**
 * The flags and the drill's name as a `ConfigProvider`; throws (with the message {@link config} would
 * fail with) on anything invalid.
 */
export const parseFlags = (argv: ReadonlyArray<string>): Flags.Parsed => {
  const parsed = Flags.parse(argv, valued, {}, { positionals: true, repeated: { "shop-env": "DRILL_SHOP_ENV" } })
  if (parsed.help) return parsed
  if (parsed.positionals.length > 1) {
    throw new Error(`one drill at a time (got "${parsed.positionals[0]}" and "${parsed.positionals[1]}")`)
  }
  const named = parsed.positionals.length === 1
    ? new Map([["DRILL", parsed.positionals[0]]])
    : new Map<string, string>()
  const provider = ConfigProvider.fromMap(named).pipe(ConfigProvider.orElse(() => parsed.provider))
  const checked = Effect.runSync(Effect.either(Effect.withConfigProvider(config, provider)))
  if (Either.isLeft(checked)) {
    throw new Error(checked.left._op === "InvalidData" ? checked.left.message : String(checked.left))
  }
  const other = argv.find((arg) => /^--(rounds|replicas|shop-env)(=|$)/.test(arg))
  if (checked.right.drill === "dbfaults" && other !== undefined) {
    throw new Error(`dbfaults: unknown argument ${other} (only --clients N)`)
  }
  return { ...parsed, provider }
}
