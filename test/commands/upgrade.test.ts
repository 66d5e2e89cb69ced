import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { snapshotTree } from '../helpers/project.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('sdlf upgrade', { timeout: 120_000 }, () => {
  let freshProject: () => string;
  const roots: string[] = [];
  /** A project that vendors an older sdlf (0.0.9). */
  const olderProject = () => {
    const root = freshProject();
    roots.push(dirname(root));
    renameSync(join(root, `vendor/sdlf-${VERSION}.tgz`), join(root, 'vendor/sdlf-0.0.9.tgz'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    pkg.dependencies.sdlf = 'file:vendor/sdlf-0.0.9.tgz';
    writeFileSync(join(root, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    return root;
  };
  beforeAll(async () => {
    ensureBuilt();
    freshProject = await initializedProjectCopies();
  });
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('--dry-run, from a subfolder, shows the diff of each file it would touch and writes nothing', async () => {
    const root = olderProject();
    const before = snapshotTree(root);
    const run = await sdlf(['upgrade', '--dry-run'], { cwd: join(root, 'transforms') });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      `Would upgrade ${root} to sdlf ${VERSION}: dependency file:vendor/sdlf-0.0.9.tgz → file:vendor/sdlf-${VERSION}.tgz (vendored)`,
    );
    expect(run.stdout).toContain(`-    "sdlf": "file:vendor/sdlf-0.0.9.tgz"\n+    "sdlf": "file:vendor/sdlf-${VERSION}.tgz"`);
    expect(run.stdout).toContain(`create vendor/sdlf-${VERSION}.tgz`);
    expect(run.stdout).toContain('delete vendor/sdlf-0.0.9.tgz');
    expect(snapshotTree(root)).toEqual(before);
  });

  it('upgrades with --json, vendoring this sdlf, and then finds nothing to do', async () => {
    const root = olderProject();
    const run = await sdlf(['upgrade', '--json', '--path', root]);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ dryRun: false, installed: false, to: { version: VERSION, source: 'vendored' } });
    expect(result.nextSteps[0]).toBe('npm install');
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies.sdlf).toBe(
      `file:vendor/sdlf-${VERSION}.tgz`,
    );
    const again = await sdlf(['upgrade', '--path', root]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('Every generated file is up to date.');
  });

  it('exits 2 on a package.json that is not JSON, naming its line', async () => {
    const root = olderProject();
    writeFileSync(join(root, 'package.json'), '{\n  "name": "lake",\n}\n');
    const run = await sdlf(['upgrade', '--path', root]);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toMatch(/package\.json:3:1 is not valid JSON/);
  });
});
