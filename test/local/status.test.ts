import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { type LocalStatusResult, readLocalStatus } from '../../src/local/status.js';
import { runLocal } from '../../src/services/run-local.js';
import { createLegislatorsProject } from './fixture.js';

describe('readLocalStatus', () => {
  let root: string;
  let status: LocalStatusResult;

  beforeAll(async () => {
    // Given a local run in which one object failed
    root = await createLegislatorsProject({ sql: 'CREATE TABLE regions AS SELECT * FROM regions;' });
    const data = join(root, 'data', 'demoteam', 'legislators');
    writeFileSync(join(data, 'broken.jsonl'), '{"id": 1}\nnot json\n');
    await runLocal(
      { root, team: 'demoteam', dataset: 'legislators', inputs: [join(data, 'regions.json'), join(data, 'broken.jsonl')] },
      createRecordingIo(),
    );
    status = await readLocalStatus({ root, env: 'dev' });
  });

  it('lists the executions of each dataset, newest first, with stage, status and duration', () => {
    expect(status).toMatchObject({ source: 'local', env: 'dev' });
    expect(status.datasets.map((d) => `${d.team}/${d.dataset}/${d.pipeline}`)).toEqual(['demoteam/legislators/standard']);
    const executions = status.datasets[0]?.executions ?? [];
    expect(executions.map((e) => `${e.stage}:${e.status}`)).toEqual(['b:SUCCEEDED', 'a:FAILED', 'a:SUCCEEDED']);
    for (const execution of executions) {
      expect(execution.durationMs).toBeGreaterThanOrEqual(0);
      expect(execution.attempt).toBe(1);
    }
  });

  it('gives the failure cause of a failed execution and the outputs of the others', () => {
    const [stageB, failed, succeeded] = status.datasets[0]?.executions ?? [];
    expect(failed?.failure).toMatchObject({ error: 'RecordParseError', cause: expect.stringContaining('broken.jsonl:2') });
    expect(failed?.source).toMatch(/^s3:\/\/.+\/demoteam\/legislators\/broken\.jsonl$/);
    expect(succeeded?.outputs).toEqual([expect.objectContaining({ table: 'regions', records: 554 })]);
    expect(stageB?.outputs).toEqual([expect.objectContaining({ table: 'regions', records: 554 })]);
  });

  it('keeps the newest executions up to the limit, and filters by team and dataset', async () => {
    const limited = await readLocalStatus({ root, env: 'dev', team: 'demoteam', dataset: 'legislators', limit: 1 });
    expect(limited.datasets[0]?.executions.map((e) => e.stage)).toEqual(['b']);
    expect((await readLocalStatus({ root, env: 'dev', team: 'other' })).datasets).toEqual([]);
  });

  it('lists 10 executions per dataset by default', async () => {
    const data = join(root, 'data', 'demoteam', 'legislators');
    for (let n = 0; n < 8; n++) {
      // A new version of the file each time: a rerun of the same bytes starts nothing.
      const file = join(data, `extra-${n}.jsonl`);
      writeFileSync(file, `{"id": "r${n}"}\n`);
      await runLocal({ root, team: 'demoteam', dataset: 'legislators', inputs: [file] }, createRecordingIo());
    }
    // 3 executions before, then a stage A and a stage B execution per run
    const all = await readLocalStatus({ root, env: 'dev' });
    expect(all.datasets[0]?.executions).toHaveLength(10);
  });

  it('rejects an environment that never ran locally with NO_LOCAL_RUNS', async () => {
    await expect(readLocalStatus({ root, env: 'prod' })).rejects.toMatchObject({ code: 'NO_LOCAL_RUNS' });
  });

  it('rejects a dataset without its team with TEAM_REQUIRED', async () => {
    await expect(readLocalStatus({ root, env: 'dev', dataset: 'legislators' })).rejects.toMatchObject({ code: 'TEAM_REQUIRED' });
  });
});
