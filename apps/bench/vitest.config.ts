import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "@shop/bench",
      // one PostgreSQL server for the run (inject("databaseUrl")); the shop built and bundled (peers.test)
      globalSetup: ["../../packages/database/src/globalSetup.ts", "../shop/test/globalSetup.ts"]
    }
  })
)
