// Bundles every src/runtime/handlers/<name>/handler.ts into dist/handlers/<name>/: one folder per Lambda function,
// a minified ESM entry (index.mjs) and the chunks it imports on demand, AWS SDK included and tree-shaken (see
// src/bundling/options.ts and BENCHMARKS.md for why).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Handlers bundled at synth time with user code, not by the package build. */
export const SYNTH_TIME_HANDLERS = new Set(['light-transform']);

/** Bundles the handlers under `root` (except {@link SYNTH_TIME_HANDLERS}); returns their names. */
export async function bundleHandlers({ root, outdir }) {
  // The options synth uses for the light transform too; compiled to dist/ by tsc before this runs.
  const { LAMBDA_BUNDLE_OPTIONS } = await import(pathToFileURL(join(root, 'dist', 'bundling', 'options.js')).href);
  const dir = join(root, 'src', 'runtime', 'handlers');
  if (!existsSync(dir)) return [];
  // light-transform imports the user's transform: src/bundling bundles it per dataset at synth time.
  const names = readdirSync(dir)
    .filter((name) => !SYNTH_TIME_HANDLERS.has(name) && existsSync(join(dir, name, 'handler.ts')))
    .sort();
  await Promise.all(
    names.map((name) =>
      build({
        // One build per function: each folder is a self-contained Lambda asset, sharing no chunk with another.
        entryPoints: [{ in: join(dir, name, 'handler.ts'), out: 'index' }],
        outdir: join(outdir, name),
        ...LAMBDA_BUNDLE_OPTIONS,
        logLevel: 'warning',
      }),
    ),
  );
  return names;
}
