import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
