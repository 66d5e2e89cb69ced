import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { bundleLightTransform, resolvePackageEntry } from '../../src/bundling/index.js';
import { isSdlfError } from '../../src/core/errors.js';
import { COMMON_ENV, HANDLER_ENV } from '../../src/runtime/contract.js';
import { repoRoot, tempDir } from '../helpers/project.js';
import { LIGHT_TRANSFORM, writeProject } from './helpers.js';

const project = (source: string) =>
  writeProject(
    { dev: [{ team: 'demoteam', dataset: 'legislators' }] },
    { files: { 'transforms/light/sdlf_light_transform.ts': source } },
  );

async function bundleError(root: string) {
  const error = await bundleLightTransform({ projectRoot: root, transform: 'sdlf_light_transform', cacheDir: tempDir() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
  return error;
}

describe('bundleLightTransform', { timeout: 120_000 }, () => {
  it("bundles the light-transform handler with the project's transform into a folder whose index.mjs exports handler", async () => {
    const cacheDir = tempDir();
    const marker = LIGHT_TRANSFORM.replace(
      'record: { key: input.key }',
      "record: { key: input.key, marker: 'bundled-user-code' }",
    );
    const dir = await bundleLightTransform({ projectRoot: project(marker), transform: 'sdlf_light_transform', cacheDir });
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code).toContain('bundled-user-code');
    expect(code).not.toContain('sdlf:user-transform');
    // The same inputs give the same folder: asset hashes stay stable between synths
    expect(await bundleLightTransform({ projectRoot: project(marker), transform: 'sdlf_light_transform', cacheDir })).toBe(dir);
    // The handler reads its environment at cold start, as on Lambda
    for (const name of [...Object.values(COMMON_ENV), ...Object.values(HANDLER_ENV['light-transform'])])
      process.env[name] ??= '7';
    const module = await import(pathToFileURL(join(dir, 'index.mjs')).href);
    expect(typeof module.handler).toBe('function');
  });

  it('gives the same bytes in any folder, and on Lambda (source maps on) a throwing transform names its own line', async () => {
    const throwing = `import { defineLightTransform } from 'sdlf/transform';
export default defineLightTransform(async function* (input) {
  if (input.key.endsWith('bad.json')) throw new Error('bad is bad');
  yield { table: 'rows', record: { key: input.key } };
});
`;
    const cacheDir = tempDir();
    const dir = await bundleLightTransform({ projectRoot: project(throwing), transform: 'sdlf_light_transform', cacheDir });
    // Another project folder with the same files: the same folder, so the same asset hash in CodeBuild
    expect(await bundleLightTransform({ projectRoot: project(throwing), transform: 'sdlf_light_transform', cacheDir })).toBe(dir);
    const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources).toContain('transforms/light/sdlf_light_transform.ts');
    expect(map.sources.filter((source) => source.startsWith('/') || source.startsWith('..'))).toEqual([]);
    expect(map.sourcesContent).toBeUndefined();
    // Chunks of the SDK and of sdlf itself keep no map: Node would parse it at every cold start
    const chunks = readdirSync(join(dir, 'chunks'));
    expect(chunks.filter((file) => file.endsWith('.map'))).toEqual([]);
    for (const chunk of chunks) expect(readFileSync(join(dir, 'chunks', chunk), 'utf8')).not.toContain('sourceMappingURL');
    // The handler as Lambda runs it, with the function's NODE_OPTIONS
    const env = { ...process.env, NODE_OPTIONS: '--enable-source-maps' };
    for (const name of [...Object.values(COMMON_ENV), ...Object.values(HANDLER_ENV['light-transform'])]) env[name] = 'x';
    env[HANDLER_ENV['light-transform'].team] = 'demoteam';
    env[HANDLER_ENV['light-transform'].dataset] = 'legislators';
    const script = `import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)}).then((m) =>
      m.handler({ bucket: 'raw', key: 'demoteam/legislators/bad.json', team: 'demoteam', dataset: 'legislators', executionId: 'a-1' }),
    ).catch((e) => console.log("ERROR " + e.message));`;
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', script], { env, cwd: dir });
    expect(stdout.split('\n').find((line) => line.startsWith('ERROR '))).toBe(
      'ERROR bad is bad (in the light transform at transforms/light/sdlf_light_transform.ts:3:45, on s3://raw/demoteam/legislators/bad.json, after 0 records, producing record 1)',
    );
  });

  it('throws TRANSFORM_BUILD_FAILED naming the file and line of a transform that does not compile', async () => {
    const error = await bundleError(project('export default async function* (input) {\n  yield {\n}\n'));
    expect(error.code).toBe('TRANSFORM_BUILD_FAILED');
    expect(error.message).toContain('transforms/light/sdlf_light_transform.ts');
  });

  it('throws MISSING_TRANSFORM when the transform file does not exist', async () => {
    const error = await bundleLightTransform({ projectRoot: tempDir(), transform: 'nope' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSdlfError(error) && error.code).toBe('MISSING_TRANSFORM');
  });
});

describe('resolvePackageEntry', () => {
  it.each([
    ['sdlf/constructs', join(repoRoot, 'src', 'constructs', 'index.ts')],
    ['sdlf/transform', join(repoRoot, 'src', 'runtime', 'transform', 'index.ts')],
    ['sdlf/unknown', undefined],
  ])('resolves %s to this copy of the package', (specifier, expected) => {
    expect(resolvePackageEntry(specifier)).toBe(expected);
  });
});
