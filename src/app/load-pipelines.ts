import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT, sdlfPackagePlugin } from '../bundling/index.js';
import type { Project } from '../config/model.js';
import { replaceFile } from '../core/atomic.js';
import { isSdlfError, type Problem, SdlfError } from '../core/errors.js';
import { PipelineTypeRegistry } from './registry.js';

/** Packages a pipeline module shares with the app instead of bundling a copy (constructs are compared by class). */
const SHARED_PACKAGES = ['aws-cdk-lib', 'constructs'] as const;

/** Options of {@link loadPipelineTypes}. */
export interface LoadPipelineTypesOptions {
  /** Where compiled pipeline modules are cached by content. @default `<tmpdir>/sdlf-pipelines` */
  readonly cacheDir?: string;
}

/**
 * Returns the registry of a project: the built-in types plus each `pipelines/<name>.ts`, bundled with esbuild into
 * an ES module (its `sdlf`, `aws-cdk-lib` and `constructs` imports bound to the copies this app uses) and
 * imported. The module's default export must be a pipeline type named like its file.
 */
export async function loadPipelineTypes(project: Project, options: LoadPipelineTypesOptions = {}): Promise<PipelineTypeRegistry> {
  const registry = PipelineTypeRegistry.withBuiltIns();
  for (const [name, file] of Object.entries(project.customPipelineFiles)) {
    await registerModule(registry, project.root, name, file, options.cacheDir);
  }
  return registry;
}

/**
 * Checks every `pipelines/*.ts` of a project (compiles, loads, exports a pipeline type named like its file) and
 * returns one problem per module that fails, for `sdlf validate`.
 */
export async function checkPipelineModules(project: Project, options: LoadPipelineTypesOptions = {}): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [name, file] of Object.entries(project.customPipelineFiles)) {
    const registry = PipelineTypeRegistry.withBuiltIns();
    try {
      await registerModule(registry, project.root, name, file, options.cacheDir);
    } catch (error) {
      if (!isSdlfError(error)) throw error;
      problems.push({
        code: error.code ?? 'INVALID_PIPELINE_TYPE',
        file,
        message: error.message,
        suggestion: error.suggestions?.[0],
      });
    }
  }
  return problems;
}

async function registerModule(registry: PipelineTypeRegistry, root: string, name: string, file: string, cacheDir?: string) {
  const module = await importPipelineModule(root, file, cacheDir);
  const type = module.default ?? module.pipelineType;
  registry.register(type, file);
  const registered = registry.get((type as { pipelineType: string }).pipelineType);
  if (registered.pipelineType !== name) {
    throw new SdlfError(`${file} defines pipeline type "${registered.pipelineType}", but its file name says "${name}".`, {
      code: 'INVALID_PIPELINE_TYPE',
      suggestions: [`Set pipelineType to "${name}" in ${file}, or rename the file to pipelines/${registered.pipelineType}.ts.`],
    });
  }
}

/** Compiles and imports one pipeline module of a project. */
export async function importPipelineModule(
  projectRoot: string,
  file: string,
  cacheDir = join(tmpdir(), 'sdlf-pipelines'),
): Promise<Record<string, unknown>> {
  const { build } = await import('esbuild');
  const entry = resolve(projectRoot, file);
  const result = await build({
    entryPoints: [entry],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    outfile: `${basename(file, '.ts')}.mjs`,
    nodePaths: [join(PACKAGE_ROOT, 'node_modules')],
    logLevel: 'silent',
    plugins: [sdlfPackagePlugin({ external: SHARED_PACKAGES })],
  }).catch((error: { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }) => {
    const first = error.errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new SdlfError(`${file} does not compile: ${where}${first?.text ?? String(error)}.`, {
      code: 'PIPELINE_BUILD_FAILED',
      suggestions: [`Fix ${file}; "npx tsc --noEmit" in the project shows type errors.`],
    });
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${file}`);
  const hash = createHash('sha256').update(output.contents).digest('hex').slice(0, 20);
  const target = join(cacheDir, `${basename(file, '.ts')}-${hash}.mjs`);
  if (!existsSync(target)) {
    await replaceFile(target, output.contents);
  }
  try {
    return (await import(pathToFileURL(target).href)) as Record<string, unknown>;
  } catch (error) {
    throw new SdlfError(`${file} fails when it is loaded: ${(error as Error).message}`, {
      code: 'PIPELINE_LOAD_FAILED',
      suggestions: [`Fix the code that runs at the top level of ${file}.`],
    });
  }
}
