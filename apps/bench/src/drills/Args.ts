/**
 * `node apps/bench/dist/drills/main.js <drill> [--rounds N] [--replicas N] [--clients N]`.
 *
 * A hand-written parser on purpose: three integer flags and a positional name, with an error that
 * says what was wrong instead of a stack trace.
 */
import * as Either from "effect/Either"

export const drills = ["sigterm", "sigkill", "replicas"] as const
export type DrillName = typeof drills[number]

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

export class Help {
  readonly _tag = "Help"
}

const integerFlag = (
  name: string,
  raw: string | undefined,
  min: number,
  max: number
): Either.Either<number, string> => {
  if (raw === undefined) return Either.left(`${name} needs a value`)
  if (!/^\d+$/.test(raw)) return Either.left(`${name} expects an integer, got "${raw}"`)
  const value = Number(raw)
  return value < min || value > max ? Either.left(`${name} must be between ${min} and ${max}`) : Either.right(value)
}

/** Parses `process.argv.slice(2)`; `Help` for `-h`/`--help`, a message for anything invalid. */
export const parse = (argv: ReadonlyArray<string>): Either.Either<DrillArgs, string | Help> => {
  let drill: DrillName | undefined
  const flags: { rounds?: number; replicas?: number; clients?: number } = {}
  const shopEnv: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === "-h" || arg === "--help") return Either.left(new Help())
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined]
    const key = flag === "--rounds" ? "rounds" : flag === "--replicas" ? "replicas" : flag === "--clients"
      ? "clients"
      : undefined
    if (key !== undefined) {
      const raw = inline ?? argv[++i]
      const [min, max] = key === "rounds" ? [1, 10_000] : key === "replicas" ? [1, 8] : [1, 32]
      const value = integerFlag(flag, raw, min, max)
      if (Either.isLeft(value)) return Either.left(value.left)
      flags[key] = value.right
    } else if (flag === "--shop-env") {
      const raw = inline ?? argv[++i]
      const match = raw === undefined ? null : /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(raw)
      if (match === null) return Either.left(`--shop-env expects KEY=VALUE, got ${raw ?? "nothing"}`)
      if (fixedShopEnv.includes(match[1])) return Either.left(`--shop-env cannot change ${match[1]}`)
      shopEnv[match[1]] = match[2]
    } else if (arg.startsWith("-")) {
      return Either.left(`unknown option ${arg}`)
    } else if (drill !== undefined) {
      return Either.left(`one drill at a time (got "${drill}" and "${arg}")`)
    } else if ((drills as ReadonlyArray<string>).includes(arg)) {
      drill = arg as DrillName
    } else {
      return Either.left(`unknown drill "${arg}" (one of ${drills.join(", ")})`)
    }
  }
  if (drill === undefined) return Either.left("which drill? (one of " + drills.join(", ") + ")")
  return Either.right({
    drill,
    rounds: flags.rounds ?? defaults[drill].rounds,
    replicas: flags.replicas ?? defaults[drill].replicas,
    clients: flags.clients ?? defaultClients,
    shopEnv
  })
}
