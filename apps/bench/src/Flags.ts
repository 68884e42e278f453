/**
 * Command-line flags as a `ConfigProvider`: each flag names the configuration key it sets, and the
 * provider falls back to the environment, so flags win over variables and every option is still read
 * through `Config` exactly once.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Util from "node:util"

export interface Parsed {
  readonly help: boolean
  readonly provider: ConfigProvider.ConfigProvider
  /** The arguments that are not flags (only when `positionals` allows them). */
  readonly positionals: ReadonlyArray<string>
}

export interface Extra {
  /** Accept arguments that are not flags (e.g. a command name). */
  readonly positionals?: boolean | undefined
  /** `--flag <value>`, repeatable → key set to the values joined by {@link repeatedSeparator}. */
  readonly repeated?: Readonly<Record<string, string>> | undefined
}

/** Joins the values of a repeated flag under its key (a value may contain commas). */
export const repeatedSeparator = "\u0000"

/** `node:util`'s messages, said the way the usage reads: `unknown option --x`, `--x needs a value`. */
const plain = (error: unknown): Error => {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { readonly code?: string }).code
  const flag = /'(-[^' ]+)/.exec(message)?.[1]
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) return new Error(`unknown option ${flag}`)
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) return new Error(`${flag} needs a value`)
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return new Error(`unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ""}`.trim())
  }
  return error instanceof Error ? error : new Error(message)
}

/**
 * `valued`: `--flag <value>` → key; `switches`: `--flag` → key set to `"true"`. Unknown flags and
 * (unless allowed) positionals throw (`node:util` parseArgs, strict).
 */
export const parse = (
  argv: ReadonlyArray<string>,
  valued: Readonly<Record<string, string>>,
  switches: Readonly<Record<string, string>> = {},
  extra: Extra = {}
): Parsed => {
  const repeated = extra.repeated ?? {}
  let parsed: ReturnType<typeof Util.parseArgs>
  try {
    parsed = Util.parseArgs({
      args: [...argv],
      options: {
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(Object.keys(valued).map((flag) => [flag, { type: "string" as const }])),
        ...Object.fromEntries(Object.keys(switches).map((flag) => [flag, { type: "boolean" as const }])),
        ...Object.fromEntries(Object.keys(repeated).map((flag) => [flag, { type: "string" as const, multiple: true }]))
      },
      strict: true,
      allowPositionals: extra.positionals === true
    })
  } catch (error) {
    throw plain(error)
  }
  const given = parsed.values as Record<string, string | boolean | ReadonlyArray<string> | undefined>
  const fromFlags = new Map<string, string>()
  for (const [flag, key] of Object.entries(valued)) {
    const value = given[flag]
    if (typeof value === "string") fromFlags.set(key, value)
  }
  for (const [flag, key] of Object.entries(switches)) if (given[flag] === true) fromFlags.set(key, "true")
  for (const [flag, key] of Object.entries(repeated)) {
    const values = given[flag]
    if (Array.isArray(values)) fromFlags.set(key, values.join(repeatedSeparator))
  }
  return {
    help: given.help === true,
    provider: ConfigProvider.fromMap(fromFlags).pipe(ConfigProvider.orElse(() => ConfigProvider.fromEnv())),
    positionals: parsed.positionals
  }
}
