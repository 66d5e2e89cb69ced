import type { BuildOptions } from 'esbuild';

/** Gives an ESM bundle a `require`, which some bundled dependencies still call. */
export const ESM_REQUIRE_BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

/**
 * esbuild options of every Lambda bundle: the handlers the build bundles into `dist/handlers` and the light
 * transform function that synth bundles with the user's transform. One minified ESM file for the Lambda Node.js
 * runtime, the AWS SDK included (see BENCHMARKS.md, handler cold start).
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
  banner: { js: ESM_REQUIRE_BANNER },
};
