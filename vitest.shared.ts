import { defineConfig } from "vitest/config"

// Workspace packages export `./src/*.ts` under the "@shop/source" condition (and built `dist/*.js`
// otherwise, for plain `node`). Tests and the type-checker read the sources.
export default defineConfig({
  resolve: { conditions: ["@shop/source"] },
  ssr: { resolve: { conditions: ["@shop/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
