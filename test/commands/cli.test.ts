import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { repoRoot } from '../helpers/project.js';

beforeAll(() => ensureBuilt());

const own = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

describe('sdlf', () => {
  it('lists the scaffolding commands in --help', async () => {
    const run = await sdlf(['--help']);
    expect(run.exitCode).toBe(0);
    for (const command of ['init', 'add-dataset', 'validate']) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('prints its version with --version', async () => {
    const run = await sdlf(['--version']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^sdlf/${own.version.replaceAll('.', '\\.')} `));
  });

  it.each(['init', 'add-dataset', 'remove-dataset', 'validate', 'logs', 'trigger'])(
    'documents %s with examples and the shared flags',
    async (command) => {
      const run = await sdlf([command, '--help']);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain('EXAMPLES');
      expect(run.stdout).toContain(`$ sdlf ${command}`);
      expect(run.stdout).toContain('--path');
      expect(run.stdout).toContain('--json');
      expect(run.stdout).toContain('env: SDLF_PATH');
    },
  );

  it('ships the command manifest so --help loads no command module', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, unknown>;
    };
    expect(Object.keys(manifest.commands)).toEqual(expect.arrayContaining(['init', 'add-dataset', 'validate']));
  });

  it('exits 2 on an unknown command', async () => {
    const run = await sdlf(['nope']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('command nope not found');
  });

  it('exits 2 on an unknown flag, naming it', async () => {
    const run = await sdlf(['validate', '--pth', '.']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('--pth');
  });
});
