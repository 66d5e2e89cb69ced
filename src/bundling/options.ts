import type { BuildOptions } from 'esbuild';

/** Gives an ESM bundle a `require`, which some bundled dependencies still call. Written atop every output file. */
export const ESM_REQUIRE_BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

/** File of a Lambda bundle's entry, in the function's folder: the function's handler is `index.handler`. */
export const LAMBDA_ENTRY_FILE = 'index.mjs';

/** Folder of a Lambda bundle's chunks, beside its entry. */
export const LAMBDA_CHUNKS_DIR = 'chunks';

/**
 * esbuild options of every Lambda bundle: the handlers the build bundles into `dist/handlers` and the light
 * transform function that synth bundles with the user's transform. Each function is one folder: a minified ESM
 * entry, `index.mjs`, plus the chunks of what it imports dynamically, with the AWS SDK bundled (see BENCHMARKS.md,
 * handler cold start). Start-up time follows the code loaded at start (V8 compiles the whole module graph before
 * it runs), so code splitting keeps out of it what a function may never need: the SDK's credential providers
 * other than environment variables (imported by the SDK on demand, never on Lambda) and the clients a handler
 * loads on first use. Build with `outdir` set to the function's folder and the entry named `index`.
 */
export const LAMBDA_BUNDLE_OPTIONS: Readonly<BuildOptions> = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  mainFields: ['module', 'main'],
  splitting: true,
  chunkNames: `${LAMBDA_CHUNKS_DIR}/[name]-[hash]`,
  outExtension: { '.js': '.mjs' },
  banner: { js: ESM_REQUIRE_BANNER },
};
