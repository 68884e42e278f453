import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as DrillOptions from "../src/drills/DrillOptions.js"

const read = (argv: ReadonlyArray<string>) =>
  Effect.withConfigProvider(DrillOptions.config, DrillOptions.parseFlags(argv).provider)

const refused = (argv: ReadonlyArray<string>) => {
  try {
    DrillOptions.parseFlags(argv)
  } catch (error) {
    return (error as Error).message
  }
  return "accepted"
}

describe("drill flags", () => {
  it.effect("defaults per drill, flags, repeated --shop-env", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* read(["replicas"]), {
        drill: "replicas",
        rounds: 30,
        replicas: 3,
        clients: 4,
        shopEnv: {}
      })
      assert.deepStrictEqual(
        yield* read(["sigterm", "--rounds=3", "--clients", "2", "--shop-env", "A=1, 2", "--shop-env", "B="]),
        { drill: "sigterm", rounds: 3, replicas: 1, clients: 2, shopEnv: { A: "1, 2", B: "" } }
      )
      assert.deepStrictEqual(yield* read(["dbfaults", "--clients", "8"]), { drill: "dbfaults", clients: 8 })
      assert.isTrue(DrillOptions.parseFlags(["--help"]).help)
    }))

  it("bad input is refused with what was wrong", () => {
    assert.strictEqual(refused([]), "which drill? (one of sigterm, sigkill, replicas)")
    assert.strictEqual(refused(["sigterm", "sigkill"]), "one drill at a time (got \"sigterm\" and \"sigkill\")")
    assert.strictEqual(refused(["sigterm", "--rounds"]), "--rounds needs a value")
    assert.strictEqual(refused(["sigterm", "--rounds", "x"]), "--rounds expects an integer, got \"x\"")
    assert.strictEqual(refused(["sigterm", "--replicas", "9"]), "--replicas must be between 1 and 8")
    assert.strictEqual(refused(["sigterm", "--bogus"]), "unknown option --bogus")
    assert.strictEqual(refused(["sigterm", "--shop-env", "PORT=1"]), "--shop-env cannot change PORT")
    assert.strictEqual(refused(["dbfaults", "--rounds", "3"]), "dbfaults: unknown argument --rounds (only --clients N)")
  })
})
