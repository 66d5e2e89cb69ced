import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT, sdlfPackagePlugin } from '../bundling/index.js';
import { projectPaths } from '../config/paths.js';
import { SdlfError } from '../core/errors.js';
import type { LightTransform } from '../runtime/transform/types.js';
import { replaceFile } from './atomic.js';

/** Options of {@link loadLightTransform}. */
export interface LoadLightTransformOptions {
  /** Root of the user's project. */
  readonly projectRoot: string;
  /** Name of the light transform (`transforms/light/<name>.ts`). */
  readonly transform: string;
  /** Folder for the bundle (`.sdlf/local/<env>/build`). */
  readonly outDir: string;
}

/**
 * Bundles `transforms/light/<name>.ts` with esbuild as synth does for the stage A Lambda (same `sdlf` package
 * plugin, platform and module format; `sdlf/transform` resolved to this copy of the package, so the project
 * needs no `npm install`) and imports its default export. The bundle is named by its content hash, so an
 * edited transform is reloaded and an unchanged one is reused.
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
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [file],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    legalComments: 'none',
    mainFields: ['module', 'main'],
    outfile: 'transform.mjs',
    nodePaths: [join(PACKAGE_ROOT, 'node_modules')],
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
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
  const hash = createHash('sha256').update(output.contents).digest('hex').slice(0, 16);
  const bundle = join(options.outDir, `light-${options.transform}-${hash}.mjs`);
  if (!existsSync(bundle)) await replaceFile(bundle, output.contents);
  const loaded = (await import(pathToFileURL(bundle).href)) as { default?: unknown };
  if (typeof loaded.default !== 'function') {
    throw new SdlfError(`${relativeFile} has no default export function (found ${typeof loaded.default}).`, {
      code: 'INVALID_TRANSFORM',
      suggestions: [`Export the transform as "export default defineLightTransform(async function* (input) { … })".`],
    });
  }
  return loaded.default as LightTransform;
}
