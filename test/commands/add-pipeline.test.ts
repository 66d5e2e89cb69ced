import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, sdlf } from '../helpers/cli.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { repoRoot, snapshotTree } from '../helpers/project.js';

let freshProject: () => string;

beforeAll(async () => {
  ensureBuilt();
  freshProject = await initializedProjectCopies();
});

describe('sdlf add-pipeline', { timeout: 240_000 }, () => {
  it('scaffolds pipelines/<name>.ts that type-checks against the sdlf constructs', async () => {
    // Given a new project
    const root = freshProject();
    // When a pipeline type is added
    const run = await sdlf(['add-pipeline', 'fast', '--path', root, '--description', "Jane's fast lane"]);
    // Then the module exists and the command says how to use it
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Created pipeline type "fast" in pipelines/fast.ts.');
    expect(run.stdout).toContain('--pipeline fast');
    expect(run.stderr).toContain('create    pipelines/fast.ts');
    const source = readFileSync(join(root, 'pipelines', 'fast.ts'), 'utf8');
    expect(source).toContain("pipelineType: 'fast'");
    expect(source).toContain('description: "Jane\'s fast lane"');
    // And it type-checks with the project's compiler settings, "sdlf/constructs" mapped to this package
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
    tsconfig.compilerOptions.baseUrl = '.';
    tsconfig.compilerOptions.paths = {
      'sdlf/constructs': [join(repoRoot, 'src', 'constructs', 'index.ts')],
      'sdlf/transform': [join(repoRoot, 'src', 'runtime', 'transform', 'index.ts')],
      '*': [join(repoRoot, 'node_modules', '*')],
    };
    tsconfig.compilerOptions.typeRoots = [join(repoRoot, 'node_modules', '@types')];
    tsconfig.include = ['pipelines/**/*.ts'];
    writeFileSync(join(root, 'tsconfig.check.json'), JSON.stringify(tsconfig));
    const tsc = await execa(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', 'tsconfig.check.json'], {
      cwd: root,
      reject: false,
    });
    expect(tsc.stdout).toBe('');
    expect(tsc.exitCode).toBe(0);
  });

  it('lets add-dataset register a dataset to the new type', async () => {
    const root = freshProject();
    expect((await sdlf(['add-pipeline', 'fast', '--path', root])).exitCode).toBe(0);
    const run = await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'orders', '--pipeline', 'fast']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('(pipeline fast)');
  });

  it.each([
    ['a built-in type', 'standard', 'PIPELINE_EXISTS', '"standard" is a built-in pipeline type'],
    ['an invalid name', 'Fast_Lane', 'INVALID_NAME', 'Pipeline name "Fast_Lane" is invalid'],
  ])('fails on %s and writes nothing', async (_case, name, _code, message) => {
    const root = freshProject();
    const before = snapshotTree(root);
    const run = await sdlf(['add-pipeline', name, '--path', root]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(message);
    expect(snapshotTree(root)).toEqual(before);
  });

  it('fails with FILE_EXISTS instead of overwriting a changed module, and overwrites it with --force', async () => {
    const root = freshProject();
    await sdlf(['add-pipeline', 'fast', '--path', root]);
    const file = join(root, 'pipelines', 'fast.ts');
    writeFileSync(file, '// my edits\n');
    const refused = await sdlf(['add-pipeline', 'fast', '--path', root, '--json']);
    expect(refused.exitCode).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'FILE_EXISTS' } });
    expect(readFileSync(file, 'utf8')).toBe('// my edits\n');
    const forced = await sdlf(['add-pipeline', 'fast', '--path', root, '--force']);
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain("pipelineType: 'fast'");
  });

  it('writes nothing with --dry-run and returns the plan under --json', async () => {
    const root = freshProject();
    const run = await sdlf(['add-pipeline', 'fast', '--path', root, '--dry-run', '--json']);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      name: 'fast',
      file: 'pipelines/fast.ts',
      dryRun: true,
      changes: [{ path: 'pipelines/fast.ts', action: 'create' }],
    });
    expect(existsSync(join(root, 'pipelines'))).toBe(false);
  });
});
