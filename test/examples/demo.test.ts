import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, ensureBuilt } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/project.js';

const run = promisify(execFile);

async function demo(folder: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'scripts', 'demo.mjs'), folder], {
      env: cliEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run demo (scripts/demo.mjs)', () => {
  beforeAll(() => ensureBuilt());

  it('creates the demo project, prints the four tables, and replaces its own previous demo', async () => {
    // Given a folder with no demo yet
    const folder = join(tempDir(), 'demo');
    // When the demo runs twice
    const first = await demo(folder);
    writeFileSync(join(folder, 'scratch.txt'), 'left by the first demo');
    const second = await demo(folder);
    // Then each run prints the tables with their row counts, and the second starts from a fresh project
    for (const result of [first, second]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/persons\s+1,961 rows/);
      expect(result.stdout).toMatch(/memberships\s+10,439 rows/);
      expect(result.stdout).toMatch(/organizations\s+13 rows/);
      expect(result.stdout).toMatch(/history\s+[\d,]+ rows/);
    }
    // And the README shows the tables as the demo prints them
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const tables = [...first.stdout.matchAll(/^\s*([a-z_]+)\s+([\d,]+) rows/gm)].map(([, table, rows]) => ({ table, rows }));
    expect(tables.map((t) => t.table)).toEqual(['persons', 'memberships', 'organizations', 'history']);
    for (const { table, rows } of tables)
      expect(readme, `README.md: ${table}`).toMatch(new RegExp(`^\\s*${table}\\s+${rows} rows`, 'm'));
    expect(existsSync(join(folder, 'scratch.txt'))).toBe(false);
    expect(readFileSync(join(folder, '.sdlf-demo'), 'utf8')).toContain('npm run demo');
    expect(readdirSync(join(folder, '..')).filter((name) => name.startsWith('.demo-'))).toEqual([]);
  });

  it('refuses to replace a folder it did not create, and leaves it untouched', async () => {
    const folder = join(tempDir(), 'demo');
    mkdirSync(folder);
    writeFileSync(join(folder, 'notes.txt'), 'mine');
    const result = await demo(folder);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is not a previous demo project');
    expect(readdirSync(folder)).toEqual(['notes.txt']);
  });
});
