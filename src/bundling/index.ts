import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { projectPaths } from '../config/paths.js';
import { publishDirectory } from '../core/atomic.js';
import { SdlfError } from '../core/errors.js';
import { type HandlerName, USER_TRANSFORM_MODULE } from '../runtime/contract.js';
import { LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRY_FILE } from './options.js';

const here = fileURLToPath(import.meta.url);
const requireFromHere = createRequire(import.meta.url);

/** Whether this copy of sdlf runs from its TypeScript sources (tests) rather than from `dist/`. */
export const RUNNING_FROM_SOURCE = here.endsWith('.ts');

/** Root folder of the installed sdlf package (the folder holding its package.json). */
export const PACKAGE_ROOT = findPackageRoot(dirname(here));

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sdlf') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the sdlf package root above ${start}.`);
    dir = parent;
  }
}

/** Folder of the handler bundles the package build writes (`dist/handlers`). */
export const DEFAULT_HANDLERS_DIR = join(PACKAGE_ROOT, 'dist', 'handlers');

/**
 * Returns the folder of a prebuilt handler bundle (`index.mjs` and its chunks), to use with `Code.fromAsset`. Throws when
 * the package was not built (a broken install or a source checkout without `npm run build`).
 */
export function handlerAssetDir(name: Exclude<HandlerName, 'light-transform'>, handlersDir = DEFAULT_HANDLERS_DIR): string {
  const dir = join(handlersDir, name);
  if (!existsSync(join(dir, LAMBDA_ENTRY_FILE))) {
    throw new Error(
      `The ${name} handler bundle is missing: ${join(dir, LAMBDA_ENTRY_FILE)}. Build the package with "npm run build".`,
    );
  }
  return dir;
}

/** Entry points of `sdlf` and its subpaths, as files of this copy of the package. */
const PACKAGE_ENTRIES: Record<string, string> = {
  sdlf: 'index',
  'sdlf/constructs': 'constructs/index',
  'sdlf/transform': 'runtime/transform/index',
};

/** Resolves `sdlf`, `sdlf/constructs` or `sdlf/transform` to the file of this copy of the package. */
export function resolvePackageEntry(specifier: string): string | undefined {
  const entry = PACKAGE_ENTRIES[specifier];
  if (!entry) return undefined;
  return RUNNING_FROM_SOURCE ? join(PACKAGE_ROOT, 'src', `${entry}.ts`) : join(PACKAGE_ROOT, 'dist', `${entry}.js`);
}

/**
 * An esbuild plugin that resolves `sdlf` imports of user code to this copy of the package, so a project needs no
 * build step of its own. With `external`, the imports stay imports, rewritten to absolute file URLs (used for
 * pipeline modules, which must share the app's construct classes); otherwise they are bundled (transforms).
 */
export function sdlfPackagePlugin(options: { external?: readonly string[] } = {}): Plugin {
  const external = options.external ?? [];
  return {
    name: 'sdlf-package',
    setup(build) {
      build.onResolve({ filter: /^sdlf(\/.*)?$/ }, (args) => {
        const file = resolvePackageEntry(args.path);
        if (!file) {
          return {
            errors: [
              { text: `"${args.path}" is not an entry point of sdlf; use one of ${Object.keys(PACKAGE_ENTRIES).join(', ')}.` },
            ],
          };
        }
        return external.length > 0 ? { path: pathToFileURL(file).href, external: true } : { path: file };
      });
      if (external.length === 0) return;
      const pattern = new RegExp(
        `^(${external.map((name) => name.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})(/.*)?$`,
      );
      build.onResolve({ filter: pattern }, (args) => {
        // Import the very module instance the app uses: construct classes are compared with instanceof.
        return { path: pathToFileURL(requireFromHere.resolve(args.path)).href, external: true };
      });
    },
  };
}

/** Options of {@link bundleLightTransform}. */
export interface BundleLightTransformOptions {
  /** Root of the user's project. */
  readonly projectRoot: string;
  /** Name of the light transform (`transforms/light/<name>.ts`). */
  readonly transform: string;
  /** Where bundles are cached by content. @default `<tmpdir>/sdlf-bundles` */
  readonly cacheDir?: string;
  /** Entry of the light-transform handler. @default the package's `runtime/handlers/light-transform/handler` */
  readonly handlerEntry?: string;
}

/**
 * Rewrites a source map's `sources` so they name no folder of this machine: a file of the project becomes its
 * project-relative path (`transforms/light/x.ts`, which is how a stack frame on Lambda shows it), a file of an
 * installed package `node_modules/<package>/…`, a file of this sdlf `sdlf/…`. The same project gives the same
 * bytes on a laptop and in CodeBuild, so the asset hash does not change with the folder it is built in.
 */
export function portableSourceMap(contents: Uint8Array, mapDir: string, projectRoot: string): Uint8Array {
  const map = JSON.parse(Buffer.from(contents).toString('utf8')) as { sources?: string[]; sourceRoot?: string };
  const project = resolve(projectRoot);
  map.sources = (map.sources ?? []).map((source) => {
    const file = resolve(mapDir, source);
    const inProject = relative(project, file);
    const packaged = file.lastIndexOf(`${sep}node_modules${sep}`);
    const toPosix = (path: string) => path.split(sep).join('/');
    if (!inProject.startsWith('..') && !isAbsolute(inProject) && !inProject.startsWith(`node_modules${sep}`)) {
      return toPosix(inProject);
    }
    if (packaged >= 0) return toPosix(file.slice(packaged + 1));
    const inSdlf = relative(PACKAGE_ROOT, file);
    return !inSdlf.startsWith('..') && !isAbsolute(inSdlf) ? `sdlf/${toPosix(inSdlf)}` : basename(file);
  });
  delete map.sourceRoot;
  return Buffer.from(JSON.stringify(map));
}

/**
 * Keeps the source maps that map code of the project (made portable by {@link portableSourceMap}) and drops the
 * others with their `sourceMappingURL` comment: a chunk of the AWS SDK needs none, and with source maps enabled
 * Node parses every map it finds at load (measured: all maps +10% on the light transform's cold import, these
 * only none; see BENCHMARKS.md).
 */
function withProjectSourceMaps(
  files: ReadonlyArray<{ path: string; contents: Uint8Array }>,
  outdir: string,
  projectRoot: string,
): Array<{ path: string; contents: Uint8Array }> {
  const kept = new Map<string, Uint8Array>();
  for (const file of files.filter((f) => f.path.endsWith('.map'))) {
    const contents = portableSourceMap(file.contents, dirname(join(outdir, file.path)), projectRoot);
    const { sources } = JSON.parse(Buffer.from(contents).toString('utf8')) as { sources: string[] };
    if (sources.some((source) => source.includes('/') && !/^(?:node_modules|sdlf)\//.test(source))) kept.set(file.path, contents);
  }
  return files.flatMap((file) => {
    if (file.path.endsWith('.map'))
      return kept.has(file.path) ? [{ path: file.path, contents: kept.get(file.path) as Uint8Array }] : [];
    if (kept.has(`${file.path}.map`)) return [file];
    const text = Buffer.from(file.contents)
      .toString('utf8')
      .replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
    return [{ path: file.path, contents: Buffer.from(text) }];
  });
}

/** Entry of the light-transform handler in this copy of the package. */
export function lightTransformHandlerEntry(): string {
  return RUNNING_FROM_SOURCE
    ? join(PACKAGE_ROOT, 'src', 'runtime', 'handlers', 'light-transform', 'handler.ts')
    : join(PACKAGE_ROOT, 'dist', 'runtime', 'handlers', 'light-transform', 'handler.js');
}

/**
 * Bundles the light-transform handler together with the user's `transforms/light/<name>.ts` into one folder, a
 * minified ESM entry (`index.mjs`) and its chunks, the way the package build bundles the other handlers. Returns
 * the folder, to use with `Code.fromAsset`. Identical inputs give the same folder, so the asset hash is stable.
 */
export async function bundleLightTransform(options: BundleLightTransformOptions): Promise<string> {
  const { build } = await import('esbuild');
  const userFile = resolve(options.projectRoot, projectPaths.lightTransform(options.transform));
  if (!existsSync(userFile)) {
    throw new SdlfError(
      `The light transform "${options.transform}" has no file ${projectPaths.lightTransform(options.transform)}.`,
      {
        code: 'MISSING_TRANSFORM',
        suggestions: [`Create ${projectPaths.lightTransform(options.transform)}, or scaffold it with "sdlf add-dataset".`],
      },
    );
  }
  const entry = options.handlerEntry ?? lightTransformHandlerEntry();
  if (!existsSync(entry)) throw new Error(`The light-transform handler is missing: ${entry}. Reinstall or rebuild sdlf.`);
  // A folder that is never written (write: false): output paths are made relative to it.
  const outdir = join(tmpdir(), 'sdlf-light-transform-out');
  const result = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    // Linked maps without the sources' text: the function runs with source maps enabled, so a transform that
    // throws names its own file:line. Their paths are made machine-independent below (the asset hash stays).
    sourcemap: 'linked',
    sourcesContent: false,
    entryPoints: [{ in: entry, out: 'index' }],
    write: false,
    outdir,
    nodePaths: [join(PACKAGE_ROOT, 'node_modules')],
    logLevel: 'silent',
    plugins: [
      sdlfPackagePlugin(),
      {
        name: 'sdlf-user-transform',
        setup(b) {
          b.onResolve({ filter: new RegExp(`^${USER_TRANSFORM_MODULE}$`) }, () => ({ path: userFile }));
        },
      },
    ],
  }).catch((error: { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }) => {
    const first = error.errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new SdlfError(`The light transform "${options.transform}" does not bundle: ${first?.text ?? String(error)}${where}.`, {
      code: 'TRANSFORM_BUILD_FAILED',
      suggestions: [
        `Fix ${projectPaths.lightTransform(options.transform)}; "npx tsc --noEmit" in the project shows type errors.`,
      ],
    });
  });
  const files = withProjectSourceMaps(
    result.outputFiles.map((file) => ({ path: relative(outdir, file.path), contents: file.contents })),
    outdir,
    options.projectRoot,
  ).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!files.some((file) => file.path === LAMBDA_ENTRY_FILE))
    throw new Error('esbuild produced no output for the light transform');
  const digest = createHash('sha256');
  for (const file of files) digest.update(`${file.path}\0${file.contents.length}\0`).update(file.contents);
  const dir = join(options.cacheDir ?? join(tmpdir(), 'sdlf-bundles'), `light-${digest.digest('hex').slice(0, 20)}`);
  if (!existsSync(join(dir, LAMBDA_ENTRY_FILE))) {
    // Written beside, then renamed: a concurrent synth never sees a half-written bundle.
    const temp = `${dir}.${process.pid}.${Date.now()}.tmp`;
    for (const file of files) {
      await mkdir(dirname(join(temp, file.path)), { recursive: true });
      await writeFile(join(temp, file.path), file.contents);
    }
    await publishDirectory(temp, dir, () => existsSync(join(dir, LAMBDA_ENTRY_FILE)));
  }
  return dir;
}
