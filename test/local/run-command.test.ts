import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { tempDir } from '../helpers/project.js';

describe('sdlf run', () => {
  let project: string;

  beforeAll(async () => {
    ensureBuilt();
    // Given a project made by sdlf init, with the legislators demo
    const parent = tempDir();
    const init = await sdlf(['init', 'demo', '--yes', '--path', parent]);
    expect(init.exitCode).toBe(0);
    project = join(parent, 'demo');
  });

  it('runs the demo dataset locally and prints the four tables with their row counts', async () => {
    const run = await sdlf(['run', '--local', '--team', 'demoteam', '--dataset', 'legislators', '--path', project]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/persons\s+1,961 rows/);
    expect(run.stdout).toMatch(/memberships\s+10,439 rows/);
    expect(run.stdout).toMatch(/organizations\s+13 rows/);
    expect(run.stdout).toMatch(/history\s+[\d,]+ rows\s+\.sdlf\/local\/dev\/analytics\/demoteam\/legislators\/history/);
    // Progress goes to stderr, results to stdout
    expect(run.stderr).toContain('routing: 4 object(s)');
    expect(run.stdout).not.toContain('routing: 4 object(s)');
  });

  it('prints only JSON on stdout with --json', async () => {
    const run = await sdlf(['run', '--local', '--team', 'demoteam', '--dataset', 'legislators', '--path', project, '--json']);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as { tables: Array<{ table: string; rows: number }>; failed: number };
    expect(Object.fromEntries(result.tables.map((t) => [t.table, t.rows]))).toMatchObject({
      persons: 1961,
      memberships: 10_439,
      organizations: 13,
    });
    expect(result.failed).toBe(0);
  });

  it('fails with exit code 2 and points to sdlf upload without --local', async () => {
    const run = await sdlf(['run', '--team', 'demoteam', '--dataset', 'legislators', '--path', project]);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('"sdlf run" runs locally only: pass --local.');
    expect(oneLine(run.stderr)).toContain('sdlf upload');
    expect(oneLine(run.stderr)).toContain('"sdlf trigger --team demoteam --dataset legislators" starts its stage B at once');
  });

  it('exits with code 2 after printing the summary when an object fails', async () => {
    const bad = join(tempDir(), 'broken.json');
    writeFileSync(bad, '[{"id": ');
    const run = await sdlf([
      'run',
      '--local',
      '--team',
      'demoteam',
      '--dataset',
      'legislators',
      '--path',
      project,
      '--input',
      bad,
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toMatch(/FAILED\s+demoteam\/legislators\/broken\.json\s+RecordParseError/);
    expect(run.stdout).toContain('Stage B: NO_INPUT');
    expect(run.stdout).toContain('1 failed');
  });
});
