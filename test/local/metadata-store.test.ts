import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalMetadataStore, LOCAL_TABLE_FILES } from '../../src/local/metadata-store.js';
import type { NewExecution } from '../../src/runtime/core/model.js';
import { InvalidTransitionError } from '../../src/runtime/core/ports.js';
import { datasetRegistration } from '../helpers/dataset.js';
import { tempDir } from '../helpers/project.js';
import { checkStagedClaims, checkStagedOwnership } from '../runtime/helpers.js';

const DAY = 86_400;

function execution(id: string, overrides: Partial<NewExecution> = {}): NewExecution {
  return {
    id,
    stage: 'a',
    team: 'demoteam',
    dataset: 'legislators',
    pipeline: 'standard',
    datasetKey: 'demoteam/legislators',
    startedAt: '2026-01-01T00:00:00.000Z',
    source: 's3://raw/demoteam/legislators/persons.json',
    expiresAt: Date.parse('2026-01-01T00:00:00.000Z') / 1000 + 30 * DAY,
    ...overrides,
  };
}

function setup() {
  const dir = tempDir();
  const now = { value: new Date('2026-01-01T00:00:10.000Z') };
  const open = () => createLocalMetadataStore({ dir, clock: () => now.value });
  return { dir, now, open, store: open() };
}

describe('createLocalMetadataStore', () => {
  it('starts an execution in STARTED and reports a second start of the same id as existing', async () => {
    const { store } = setup();
    const first = await store.startExecution(execution('e1'), '2026-01-01T00:00:00.000Z');
    expect(first).toMatchObject({ existed: false, execution: { status: 'STARTED', attempt: 1 } });
    const again = await store.startExecution(execution('e1'), '2026-01-01T00:00:05.000Z');
    expect(again.existed).toBe(true);
    expect(again.execution.startedAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('moves along the allowed transitions and stamps end time and duration on a terminal status', async () => {
    const { store } = setup();
    await store.startExecution(execution('e1'), '2026-01-01T00:00:00.000Z');
    await store.transition('demoteam', 'e1', 'PROCESSING', { at: '2026-01-01T00:00:01.000Z', note: 'process' });
    const done = await store.transition('demoteam', 'e1', 'SUCCEEDED', {
      at: '2026-01-01T00:00:03.500Z',
      outputs: [{ bucket: 'stage', key: 'k', table: 't', records: 2 }],
    });
    expect(done).toMatchObject({ status: 'SUCCEEDED', endedAt: '2026-01-01T00:00:03.500Z', durationMs: 3500 });
    expect(done.transitions.map((t) => t.status)).toEqual(['STARTED', 'PROCESSING', 'SUCCEEDED']);
    expect(done.outputs).toHaveLength(1);
  });

  it('treats moving to the current status as a no-op', async () => {
    const { store } = setup();
    await store.startExecution(execution('e1'), '2026-01-01T00:00:00.000Z');
    await store.transition('demoteam', 'e1', 'SUCCEEDED', { at: '2026-01-01T00:00:01.000Z' });
    const again = await store.transition('demoteam', 'e1', 'SUCCEEDED', { at: '2026-01-01T00:00:09.000Z' });
    expect(again.transitions).toHaveLength(2);
    expect(again.endedAt).toBe('2026-01-01T00:00:01.000Z');
  });

  it('rejects a transition out of a terminal status and one of an unknown execution', async () => {
    const { store } = setup();
    await store.startExecution(execution('e1'), '2026-01-01T00:00:00.000Z');
    await store.transition('demoteam', 'e1', 'SUCCEEDED', { at: '2026-01-01T00:00:01.000Z' });
    await expect(store.transition('demoteam', 'e1', 'PROCESSING', { at: '2026-01-01T00:00:02.000Z' })).rejects.toBeInstanceOf(
      InvalidTransitionError,
    );
    await expect(store.transition('demoteam', 'nope', 'FAILED', { at: '2026-01-01T00:00:02.000Z' })).rejects.toThrow(
      /does not exist/,
    );
  });

  it('restarts a FAILED execution on a new start (redrive) with the next attempt and no failure', async () => {
    const { store } = setup();
    await store.startExecution(execution('e1'), '2026-01-01T00:00:00.000Z');
    await store.transition('demoteam', 'e1', 'FAILED', {
      at: '2026-01-01T00:00:01.000Z',
      failure: { error: 'Boom', cause: 'bad' },
    });
    const restarted = await store.startExecution(execution('e1'), '2026-01-01T00:00:05.000Z');
    expect(restarted.existed).toBe(false);
    expect(restarted.execution).toMatchObject({ status: 'STARTED', attempt: 2, startedAt: '2026-01-01T00:00:05.000Z' });
    expect(restarted.execution.failure).toBeUndefined();
    expect(restarted.execution.endedAt).toBeUndefined();
    expect(restarted.execution.transitions.map((t) => t.status)).toEqual(['STARTED', 'FAILED', 'STARTED']);
    expect(restarted.execution.transitions.at(-1)?.attempt).toBe(2);
  });

  it('lists executions newest first, by dataset or team, up to the limit, without expired ones', async () => {
    const { store, now } = setup();
    await store.startExecution(execution('old', { startedAt: '2026-01-01T00:00:00.000Z' }), '2026-01-01T00:00:00.000Z');
    await store.startExecution(execution('new'), '2026-01-01T00:00:02.000Z');
    await store.startExecution(
      execution('other', { dataset: 'other', datasetKey: 'demoteam/other' }),
      '2026-01-01T00:00:01.000Z',
    );
    await store.startExecution(
      execution('gone', { expiresAt: Date.parse('2026-01-01T00:00:05.000Z') / 1000 }),
      '2026-01-01T00:00:03.000Z',
    );
    expect((await store.listExecutions({ team: 'demoteam', dataset: 'legislators', limit: 10 })).map((e) => e.id)).toEqual([
      'new',
      'old',
    ]);
    expect((await store.listExecutions({ team: 'demoteam', limit: 2 })).map((e) => e.id)).toEqual(['new', 'other']);
    now.value = new Date('2026-01-01T00:00:01.000Z');
    expect((await store.listExecutions({ limit: 10 })).map((e) => e.id)).toContain('gone');
  });

  it('drops expired executions from the file at the next write', async () => {
    const { dir, now, store, open } = setup();
    await store.startExecution(
      execution('old', { expiresAt: Date.parse('2026-01-02T00:00:00.000Z') / 1000 }),
      '2026-01-01T00:00:00.000Z',
    );
    now.value = new Date('2026-01-03T00:00:00.000Z');
    const later = open();
    await later.startExecution(execution('new'), '2026-01-03T00:00:00.000Z');
    const items = JSON.parse(readFileSync(join(dir, LOCAL_TABLE_FILES.executionHistory), 'utf8')) as Array<{ id: string }>;
    // The file holds the items as DynamoDB stores them: under their team's key
    expect(items.map((i) => i.id)).toEqual(['demoteam/new']);
  });

  it('claims staged objects for one stage B batch at a time', async () => {
    await checkStagedClaims(setup().store);
  });

  it('refuses a staged key recorded for another raw object', async () => {
    await checkStagedOwnership(setup().store);
  });

  it('persists every table as a sorted JSON array that a new store reads back', async () => {
    const { dir, store, open } = setup();
    await store.putObject('demoteam', {
      id: 's3://raw/b.json',
      bucket: 'raw',
      key: 'b.json',
      stage: 'raw',
      status: 'ROUTED',
      recordedAt: '2026-01-01T00:00:00.000Z',
    });
    await store.putObject('demoteam', {
      id: 's3://raw/a.json',
      bucket: 'raw',
      key: 'a.json',
      stage: 'raw',
      status: 'ROUTED',
      recordedAt: '2026-01-01T00:00:00.000Z',
    });
    await store.startExecution(execution('e1'), '2026-01-01T00:00:00.000Z');
    await store.recordPipelineRun({
      team: 'demoteam',
      pipeline: 'standard',
      stage: 'a',
      execution: { executionId: 'e1', dataset: 'legislators', status: 'SUCCEEDED', at: '2026-01-01T00:00:01.000Z' },
    });
    const objects = JSON.parse(readFileSync(join(dir, LOCAL_TABLE_FILES.objectMetadata), 'utf8')) as Array<{ id: string }>;
    expect(objects.map((o) => o.id)).toEqual(['demoteam/s3://raw/a.json', 'demoteam/s3://raw/b.json']);
    const reopened = open();
    expect(await reopened.getExecution('demoteam', 'e1')).toMatchObject({ status: 'STARTED' });
    expect((await reopened.listPipelines()).map((p) => p.name)).toEqual(['demoteam/standard-stage-a']);
    expect(await reopened.listObjects()).toHaveLength(2);
  });

  it("records a pipeline run as the dataset's last run of its stage, as the other stores do", async () => {
    const { store, open } = setup();
    await store.putDataset({
      ...datasetRegistration(),
      name: 'demoteam/legislators',
      version: 1,
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    const run = { executionId: 'e1', dataset: 'legislators', status: 'SUCCEEDED', at: '2026-01-01T00:00:01.000Z' } as const;
    await store.recordPipelineRun({ team: 'demoteam', pipeline: 'standard', stage: 'b', execution: run });
    expect(await open().getDataset('demoteam', 'legislators')).toMatchObject({ lastStageB: run, updatedAt: run.at });
  });

  it('keeps concurrent changes to one execution serialised', async () => {
    const { store } = setup();
    await store.startExecution(execution('e1'), '2026-01-01T00:00:00.000Z');
    const results = await Promise.allSettled([
      store.transition('demoteam', 'e1', 'PROCESSING', { at: '2026-01-01T00:00:01.000Z' }),
      store.transition('demoteam', 'e1', 'SUCCEEDED', { at: '2026-01-01T00:00:02.000Z' }),
      store.transition('demoteam', 'e1', 'PROCESSING', { at: '2026-01-01T00:00:03.000Z' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((await store.getExecution('demoteam', 'e1'))?.status).toBe('SUCCEEDED');
  });
});
