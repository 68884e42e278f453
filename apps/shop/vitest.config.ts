import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "@shop/shop",
      globalSetup: ["../../packages/database/src/globalSetup.ts", "./test/globalSetup.ts"]
    }
  })
)
