import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { initializedProjectCopies } from '../helpers/init.js';

describe('sdlf remove-dataset', () => {
  let freshProject: () => string;
  const roots: string[] = [];
  const project = () => {
    const root = freshProject();
    roots.push(dirname(root));
    return root;
  };
  beforeAll(async () => {
    ensureBuilt();
    freshProject = await initializedProjectCopies();
  });
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('without a terminal or a files flag, unregisters it, keeps its files and prints the rm -r and the AWS commands', async () => {
    const root = project();
    const add = await sdlf(['add-dataset', '--team', 'demoteam', '--dataset', 'orders', '--path', root]);
    expect(add.exitCode).toBe(0);
    const run = await sdlf(['remove-dataset', '--team', 'demoteam', '--dataset', 'orders', '--path', root]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Unregistered demoteam/orders from dev of parameters.json.');
    expect(run.stdout).toContain('to delete them yourself: rm -r transforms/heavy/demoteam_orders/ data/demoteam/orders/');
    expect(run.stdout).toMatch(/aws cloudformation delete-stack --stack-name \S+-dev-demoteam-orders --region \S+/);
    expect(existsSync(join(root, 'data/demoteam/orders'))).toBe(true);
    expect(readFileSync(join(root, 'parameters.json'), 'utf8')).not.toContain('"orders"');
  });

  it('deletes its own files with --yes', async () => {
    const root = project();
    await sdlf(['add-dataset', '--team', 'demoteam', '--dataset', 'orders', '--path', root]);
    const run = await sdlf(['remove-dataset', '--team', 'demoteam', '--dataset', 'orders', '--yes', '--path', root]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Deleted 2 file(s) and folder(s) that only demoteam/orders used.');
    expect(existsSync(join(root, 'transforms/heavy/demoteam_orders'))).toBe(false);
  });

  it('exits 2 for a dataset that is not registered, naming it and the one that is', async () => {
    const root = project();
    const run = await sdlf(['remove-dataset', '--team', 'demoteam', '--dataset', 'legislator', '--path', root]);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain(
      'Dataset "demoteam/legislator" is not registered in any environment of parameters.json',
    );
    expect(oneLine(run.stderr)).toContain('did you mean "demoteam/legislators"?');
  });

  it('exits 2 for --remove-files with --keep-files', async () => {
    const root = project();
    const run = await sdlf([
      'remove-dataset',
      '--team',
      'demoteam',
      '--dataset',
      'legislators',
      '--remove-files',
      '--keep-files',
      '--path',
      root,
    ]);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('--keep-files');
    expect(readFileSync(join(root, 'parameters.json'), 'utf8')).toContain('"legislators"');
  });
});
