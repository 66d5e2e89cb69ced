import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT, sdlfPackagePlugin } from '../bundling/index.js';
import { ESM_REQUIRE_BANNER } from '../bundling/options.js';
import { projectPaths } from '../config/paths.js';
import { replaceFile } from '../core/atomic.js';
import { SdlfError } from '../core/errors.js';
import type { LightTransform } from '../runtime/transform/types.js';

/** Options of {@link loadLightTransform}. */
export interface LoadLightTransformOptions {
  /** Root of the user's project. */
  readonly projectRoot: string;
  /** Name of the light transform (`transforms/light/<name>.ts`). */
  readonly transform: string;
  /** Folder for the bundle (`.sdlf/local/<env>/build`). */
  readonly outDir: string;
}

/** What a bundle was built from: every input file with its content hash, so an unchanged transform skips esbuild. */
interface BundleCache {
  /** How the bundle was built ({@link BUNDLE_FORMAT}): a bundle of another format is rebuilt. */
  readonly format?: number;
  readonly bundle: string;
  readonly inputs: Readonly<Record<string, string>>;
}

/** Format of the cached bundles: 2 carries an inline source map, so a failing transform names its own line. */
const BUNDLE_FORMAT = 2;

/**
 * Bundles `transforms/light/<name>.ts` with esbuild as synth does for the stage A Lambda (same `sdlf` package
 * plugin, platform and module format; `sdlf/transform` resolved to this copy of the package, so the project
 * needs no `npm install`) and imports its default export. The bundle carries a source map and source maps are
 * enabled before it is imported, so an error the transform throws has its own file and line in its stack. The bundle is named by its content hash and recorded
 * with the hashes of every file it was built from: when none changed, the next run imports it without esbuild.
 */
export async function loadLightTransform(options: LoadLightTransformOptions): Promise<LightTransform> {
  const relativeFile = projectPaths.lightTransform(options.transform);
  const file = resolve(options.projectRoot, relativeFile);
  if (!existsSync(file)) {
    throw new SdlfError(`The light transform "${options.transform}" has no file ${relativeFile}.`, {
      code: 'MISSING_TRANSFORM',
      suggestions: [`Create ${relativeFile}, or scaffold it with "sdlf add-dataset".`],
    });
  }
  const cacheFile = join(options.outDir, `light-${options.transform}.inputs.json`);
  const bundle = (await cachedBundle(cacheFile, options.outDir)) ?? (await buildBundle(file, relativeFile, options, cacheFile));
  process.setSourceMapsEnabled(true);
  const loaded = (await import(pathToFileURL(bundle).href)) as { default?: unknown };
  if (typeof loaded.default !== 'function') {
    throw new SdlfError(`${relativeFile} has no default export function (found ${typeof loaded.default}).`, {
      code: 'INVALID_TRANSFORM',
      suggestions: [`Export the transform as "export default defineLightTransform(async function* (input) { … })".`],
    });
  }
  return loaded.default as LightTransform;
}

/** Returns the cached bundle when every file it was built from is unchanged. */
async function cachedBundle(cacheFile: string, outDir: string): Promise<string | undefined> {
  const text = await readFile(cacheFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let cache: BundleCache;
  try {
    cache = JSON.parse(text) as BundleCache;
  } catch {
    return undefined;
  }
  const bundle = join(outDir, cache.bundle);
  if (cache.format !== BUNDLE_FORMAT || !existsSync(bundle)) return undefined;
  for (const [input, hash] of Object.entries(cache.inputs)) {
    if ((await hashFile(input)) !== hash) return undefined;
  }
  return bundle;
}

async function buildBundle(
  file: string,
  relativeFile: string,
  options: LoadLightTransformOptions,
  cacheFile: string,
): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [file],
    absWorkingDir: resolve(options.projectRoot),
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    legalComments: 'none',
    mainFields: ['module', 'main'],
    // The bundle's own folder: the source map's paths then resolve to the project's files.
    outfile: join(resolve(options.outDir), 'transform.mjs'),
    sourcemap: 'inline',
    sourcesContent: false,
    nodePaths: [join(PACKAGE_ROOT, 'node_modules')],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'silent',
    plugins: [sdlfPackagePlugin()],
  }).catch((error: { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }) => {
    const first = error.errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line}:${first.location.column + 1})` : '';
    throw new SdlfError(`The light transform "${options.transform}" does not bundle: ${first?.text ?? String(error)}${where}.`, {
      code: 'TRANSFORM_BUILD_FAILED',
      suggestions: [`Fix ${relativeFile}; "npx tsc --noEmit" in the project shows type errors.`],
    });
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${relativeFile}`);
  const name = `light-${options.transform}-${createHash('sha256').update(output.contents).digest('hex').slice(0, 16)}.mjs`;
  const bundle = join(options.outDir, name);
  if (!existsSync(bundle)) await replaceFile(bundle, output.contents);
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(options.projectRoot, input);
    const hash = await hashFile(path);
    if (hash) inputs[path] = hash;
  }
  const cache: BundleCache = { format: BUNDLE_FORMAT, bundle: name, inputs };
  await replaceFile(cacheFile, `${JSON.stringify(cache, null, 2)}\n`);
  return bundle;
}

async function hashFile(path: string): Promise<string | undefined> {
  const bytes = await readFile(path).catch(() => undefined);
  return bytes ? createHash('sha256').update(bytes).digest('hex') : undefined;
}
