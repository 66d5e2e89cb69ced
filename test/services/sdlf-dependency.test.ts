import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectSdlfOrigin, resolveSdlfDependency, SDLF_PACKAGE_ROOT } from '../../src/services/sdlf-dependency.js';
import { repoRoot, tempDir } from '../helpers/project.js';

/** Writes node_modules/sdlf with npm's hidden lockfile entry for it (or none) and returns the package folder. */
function installTree(entry: Record<string, string> | undefined, own: Record<string, string> = {}): string {
  const root = tempDir();
  const pkg = join(root, 'lib', 'node_modules', 'sdlf');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'sdlf', version: '0.1.0', ...own }));
  if (entry) {
    const lock = { lockfileVersion: 3, packages: { 'node_modules/sdlf': { version: '0.1.0', ...entry } } };
    writeFileSync(join(root, 'lib', 'node_modules', '.package-lock.json'), JSON.stringify(lock));
  }
  return pkg;
}

const integrity = 'sha512-AAAA';

describe('detectSdlfOrigin', () => {
  it.each([
    [
      'a registry install (npm hidden lockfile)',
      { resolved: 'https://registry.npmjs.org/sdlf/-/sdlf-0.1.0.tgz', integrity },
      {},
      'registry',
    ],
    ['a tarball install', { resolved: 'file:../../sdlf-0.1.0.tgz', integrity }, {}, 'local'],
    ['a registry URL without integrity', { resolved: 'https://registry.npmjs.org/sdlf/-/sdlf-0.1.0.tgz' }, {}, 'local'],
    ['a tree without npm lockfile', undefined, {}, 'local'],
    [
      'an old npm install (_resolved, _integrity)',
      undefined,
      { _resolved: 'https://r.example/sdlf.tgz', _integrity: integrity },
      'registry',
    ],
  ])('tells %s apart', async (_name, entry, own, kind) => {
    expect((await detectSdlfOrigin(installTree(entry, own))).kind).toBe(kind);
  });

  it('calls the running clone local', async () => {
    // Given the tests run from the repository itself
    expect(SDLF_PACKAGE_ROOT.replace(/\/$/, '')).toBe(repoRoot.replace(/\/$/, ''));
    expect(await detectSdlfOrigin()).toMatchObject({ kind: 'local' });
  });
});

describe('resolveSdlfDependency', () => {
  it.each([
    ['registry', { kind: 'registry', resolved: 'https://r.example/sdlf.tgz' }, undefined, { spec: '^1.2.3', source: 'registry' }],
    [
      'local',
      { kind: 'local', reason: 'clone' },
      undefined,
      { spec: 'file:vendor/sdlf-1.2.3.tgz', source: 'vendored', vendoredPath: 'vendor/sdlf-1.2.3.tgz' },
    ],
    ['override', { kind: 'local', reason: 'clone' }, '~1.2.0', { spec: '~1.2.0', source: 'override' }],
  ] as const)('depends on a %s sdlf as expected', (_name, origin, override, expected) => {
    expect(resolveSdlfDependency({ version: '1.2.3', origin, override })).toEqual(expected);
  });

  it('throws on an empty --sdlf-spec', () => {
    expect(() => resolveSdlfDependency({ version: '1.2.3', origin: { kind: 'local', reason: 'x' }, override: ' ' })).toThrow(
      /--sdlf-spec/,
    );
  });
});
