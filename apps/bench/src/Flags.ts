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
}

/**
 * `valued`: `--flag <value>` → key; `switches`: `--flag` → key set to `"true"`. Unknown flags and
 * positionals throw (`node:util` parseArgs, strict).
 */
export const parse = (
  argv: ReadonlyArray<string>,
  valued: Readonly<Record<string, string>>,
  switches: Readonly<Record<string, string>> = {}
): Parsed => {
  const { values } = Util.parseArgs({
    args: [...argv],
    options: {
      help: { type: "boolean", short: "h" },
      ...Object.fromEntries(Object.keys(valued).map((flag) => [flag, { type: "string" as const }])),
      ...Object.fromEntries(Object.keys(switches).map((flag) => [flag, { type: "boolean" as const }]))
    },
    strict: true,
    allowPositionals: false
  })
  const given = values as Record<string, string | boolean | undefined>
  const fromFlags = new Map<string, string>()
  for (const [flag, key] of Object.entries(valued)) {
    const value = given[flag]
    if (typeof value === "string") fromFlags.set(key, value)
  }
  for (const [flag, key] of Object.entries(switches)) if (given[flag] === true) fromFlags.set(key, "true")
  return {
    help: given.help === true,
    provider: ConfigProvider.fromMap(fromFlags).pipe(ConfigProvider.orElse(() => ConfigProvider.fromEnv()))
  }
}
