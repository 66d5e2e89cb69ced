import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSdlfError, SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { GENERATED_MANIFEST } from '../../src/services/generated-files.js';
import { type UpgradeProjectOptions, upgradeProject } from '../../src/services/upgrade-project.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { snapshotTree } from '../helpers/project.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const TARBALL = `vendor/sdlf-${VERSION}.tgz`;
const json = (root: string, file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));
const sha = (root: string, file: string) =>
  `sha256:${createHash('sha256')
    .update(readFileSync(join(root, file)))
    .digest('hex')}`;

let freshProject: () => string;
beforeAll(async () => {
  freshProject = await initializedProjectCopies();
}, 120_000);

/**
 * A project as an older sdlf (0.0.9) left it: vendored 0.0.9, and the files and manifest it generated, which
 * differ from this sdlf's (tsconfig.json recorded with other contents, a feature flag cdk.json lacks).
 */
function olderProject(): string {
  const root = freshProject();
  renameSync(join(root, TARBALL), join(root, 'vendor/sdlf-0.0.9.tgz'));
  const pkg = json(root, 'package.json');
  pkg.dependencies.sdlf = 'file:vendor/sdlf-0.0.9.tgz';
  pkg.devDependencies.typescript = '~5.8.0';
  pkg.devDependencies['aws-cdk'] = '2.1000.0';
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(root, 'tsconfig.json'), readFileSync(join(root, 'tsconfig.json'), 'utf8').replace('"ES2022"', '"ES2021"'));
  const cdk = json(root, 'cdk.json');
  const [dropped] = Object.keys(cdk.context);
  delete cdk.context[dropped as string];
  cdk.context['@aws-cdk/core:newStyleStackSynthesis'] = false;
  writeFileSync(join(root, 'cdk.json'), `${JSON.stringify(cdk, null, 2)}\n`);
  const manifest = json(root, GENERATED_MANIFEST);
  manifest.sdlf = '0.0.9';
  manifest.files['tsconfig.json'] = sha(root, 'tsconfig.json');
  manifest.devDependencies.typescript = '~5.8.0';
  writeFileSync(join(root, GENERATED_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return root;
}

const options = (root: string, extra: Partial<UpgradeProjectOptions> = {}): UpgradeProjectOptions => ({
  root,
  origin: { kind: 'local', reason: 'a clone' },
  install: false,
  pack: async () => new TextEncoder().encode(`tarball of sdlf ${VERSION}`),
  ...extra,
});

describe('upgradeProject', () => {
  it('moves an older project to this sdlf: dependency, vendored tarball, versions, flags and unedited files, each with its diff', async () => {
    const root = olderProject();
    const flagsBefore = json(root, 'cdk.json').context;
    const result = await upgradeProject(options(root), createRecordingIo());
    expect(result.from).toEqual({ spec: 'file:vendor/sdlf-0.0.9.tgz' });
    expect(result.to).toMatchObject({ spec: `file:${TARBALL}`, source: 'vendored', version: VERSION });
    const actions = Object.fromEntries(result.changes.map((c) => [c.path, c.action]));
    expect(actions).toEqual({
      'package.json': 'update',
      'cdk.json': 'update',
      '.gitignore': 'unchanged',
      'README.md': 'unchanged',
      'tsconfig.json': 'update',
      [TARBALL]: 'create',
      'vendor/sdlf-0.0.9.tgz': 'delete',
      [GENERATED_MANIFEST]: 'update',
    });
    const pkg = json(root, 'package.json');
    expect(pkg.dependencies.sdlf).toBe(`file:${TARBALL}`);
    // typescript held what sdlf 0.0.9 wrote: it moves; aws-cdk must match this sdlf's assemblies: it moves too
    expect(pkg.devDependencies.typescript).not.toBe('~5.8.0');
    expect(pkg.devDependencies['aws-cdk']).not.toBe('2.1000.0');
    expect(readFileSync(join(root, 'tsconfig.json'), 'utf8')).toContain('"ES2022"');
    // Every flag the file lacked is added; a value the user set stays as they set it
    const context = json(root, 'cdk.json').context;
    expect(Object.keys(context).length).toBe(Object.keys(flagsBefore).length + 1);
    expect(context['@aws-cdk/core:newStyleStackSynthesis']).toBe(false);
    expect(readFileSync(join(root, TARBALL), 'utf8')).toBe(`tarball of sdlf ${VERSION}`);
    expect(existsSync(join(root, 'vendor/sdlf-0.0.9.tgz'))).toBe(false);
    expect(json(root, GENERATED_MANIFEST)).toMatchObject({
      sdlf: VERSION,
      files: { 'tsconfig.json': sha(root, 'tsconfig.json') },
    });
    const diff = result.changes.find((c) => c.path === 'package.json')?.diff;
    expect(diff).toContain('-    "sdlf": "file:vendor/sdlf-0.0.9.tgz"');
    expect(diff).toContain(`+    "sdlf": "file:${TARBALL}"`);
    expect(result.nextSteps).toEqual(expect.arrayContaining(['npm install', 'npx sdlf validate']));
    // A second run finds nothing to do
    const again = await upgradeProject(options(root), createRecordingIo());
    expect(again.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
  });

  it('keeps a development dependency the user moved, and a generated file they edited unless they agree', async () => {
    const root = olderProject();
    const pkg = json(root, 'package.json');
    pkg.devDependencies.typescript = '~5.7.2';
    writeFileSync(join(root, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": false } }\n');
    const result = await upgradeProject(options(root), createRecordingIo());
    expect(json(root, 'package.json').devDependencies.typescript).toBe('~5.7.2');
    expect(readFileSync(join(root, 'tsconfig.json'), 'utf8')).toBe('{ "compilerOptions": { "strict": false } }\n');
    expect(result.changes.find((c) => c.path === 'tsconfig.json')).toMatchObject({
      action: 'kept-edited',
      reason: expect.stringContaining('edited since sdlf generated it; kept'),
      diff: expect.stringContaining('-{ "compilerOptions": { "strict": false } }'),
    });
  });

  it('asks before replacing an edited file, on a terminal, and replaces it only on yes; --force replaces without asking', async () => {
    const edit = (root: string) => writeFileSync(join(root, 'README.md'), '# my own notes\n');
    const declined = freshProject();
    edit(declined);
    const io = createRecordingIo([false]);
    await upgradeProject(options(declined, { ask: true }), io);
    expect(io.lines.filter((l) => l.level === 'confirm').map((l) => l.message)).toEqual([
      `README.md is edited since sdlf generated it. Replace it with sdlf ${VERSION}'s version (the diff above)?`,
    ]);
    expect(readFileSync(join(declined, 'README.md'), 'utf8')).toBe('# my own notes\n');

    const accepted = freshProject();
    edit(accepted);
    const result = await upgradeProject(options(accepted, { ask: true }), createRecordingIo([true]));
    expect(result.changes.find((c) => c.path === 'README.md')?.action).toBe('replace-edited');
    expect(readFileSync(join(accepted, 'README.md'), 'utf8')).toMatch(/^# lake\n/);

    const forced = freshProject();
    edit(forced);
    const forcedIo = createRecordingIo();
    await upgradeProject(options(forced, { force: true }), forcedIo);
    expect(forcedIo.lines.some((l) => l.level === 'confirm')).toBe(false);
    expect(readFileSync(join(forced, 'README.md'), 'utf8')).toMatch(/^# lake\n/);
  });

  it('treats every differing generated file as edited in a project without a manifest', async () => {
    const root = olderProject();
    rmSync(join(root, GENERATED_MANIFEST));
    const result = await upgradeProject(options(root), createRecordingIo());
    expect(result.changes.find((c) => c.path === 'tsconfig.json')).toMatchObject({
      action: 'kept-edited',
      reason: expect.stringContaining(`not recorded in ${GENERATED_MANIFEST}`),
    });
    expect(result.changes.find((c) => c.path === GENERATED_MANIFEST)?.action).toBe('create');
  });

  it('writes the registry range when a registry installed this sdlf, removing the vendored tarball', async () => {
    const root = olderProject();
    const result = await upgradeProject(
      options(root, { origin: { kind: 'registry', resolved: 'https://registry.npmjs.org/sdlf/-/sdlf.tgz' } }),
      createRecordingIo(),
    );
    expect(json(root, 'package.json').dependencies.sdlf).toBe(`^${VERSION}`);
    expect(result.to.source).toBe('registry');
    expect(existsSync(join(root, 'vendor/sdlf-0.0.9.tgz'))).toBe(false);
    expect(existsSync(join(root, TARBALL))).toBe(false);
  });

  it('writes nothing in a dry run, and says how to apply it', async () => {
    const root = olderProject();
    const before = snapshotTree(root);
    const result = await upgradeProject(options(root, { dryRun: true, install: true }), createRecordingIo());
    expect(snapshotTree(root)).toEqual(before);
    expect(result.installed).toBe(false);
    expect(result.changes.some((c) => c.action === 'update')).toBe(true);
    expect(result.nextSteps).toEqual(['npx sdlf upgrade (without --dry-run) to apply it']);
  });

  it('puts every file back when npm install fails, and says so', async () => {
    const root = olderProject();
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
    const before = snapshotTree(root);
    const npm = async () => {
      writeFileSync(join(root, 'package-lock.json'), 'half-written');
      throw new SdlfError('npm install failed in x (exit 1).', { code: 'NPM_FAILED' });
    };
    const error = (await upgradeProject(options(root, { install: true, npm }), createRecordingIo()).catch(
      (e: unknown) => e,
    )) as SdlfError;
    expect(isSdlfError(error)).toBe(true);
    expect(error.code).toBe('NPM_FAILED');
    expect(error.message).toContain("The project's files were put back as they were before sdlf upgrade.");
    expect(snapshotTree(root)).toEqual(before);
  });

  it('refuses a package.json that is not JSON with its line, and a project without one', async () => {
    const root = freshProject();
    writeFileSync(join(root, 'package.json'), '{\n  "name": "lake",\n  "dependencies": {\n}\n');
    const broken = (await upgradeProject(options(root), createRecordingIo()).catch((e: unknown) => e)) as SdlfError;
    expect(isSdlfError(broken) && broken.code).toBe('INVALID_JSON');
    expect(broken.message).toMatch(/^package\.json:5:1 is not valid JSON/);
    rmSync(join(root, 'package.json'));
    const missing = (await upgradeProject(options(root), createRecordingIo()).catch((e: unknown) => e)) as SdlfError;
    expect(isSdlfError(missing) && missing.code).toBe('NO_PACKAGE_JSON');
  });
});
