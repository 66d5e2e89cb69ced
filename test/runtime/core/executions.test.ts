import { describe, expect, it } from 'vitest';
import {
  applyTransition,
  batchIdOf,
  cachedDatasetConfig,
  createExecutionItem,
  type DatasetConfigSource,
  deduplicationIdOf,
  type ExecutionStatus,
  expiresAtOf,
  failureOf,
  InvalidTransitionError,
  jobResultKeyOf,
  manifestKeyOf,
  objectIdOf,
  parseS3Uri,
  restartExecutionItem,
  stagedKeyOf,
  truncateFailure,
  workflowNameOf,
} from '../../../src/runtime/core/index.js';
import { datasetConfig } from '../helpers.js';

const base = {
  id: 'a-1',
  stage: 'a' as const,
  team: 't',
  dataset: 'd',
  pipeline: 'standard',
  datasetKey: 't-d',
  startedAt: '2026-01-01T00:00:00.000Z',
  source: 's3://raw/t/d/x.json',
  expiresAt: 1,
};

describe('applyTransition', () => {
  const at = '2026-01-01T00:00:05.000Z';
  it.each<[ExecutionStatus, ExecutionStatus, 'moves' | 'noop' | 'throws']>([
    ['STARTED', 'PROCESSING', 'moves'],
    ['STARTED', 'FAILED', 'moves'],
    ['PROCESSING', 'SUCCEEDED', 'moves'],
    ['PROCESSING', 'FAILED', 'moves'],
    ['PROCESSING', 'PROCESSING', 'noop'],
    ['SUCCEEDED', 'SUCCEEDED', 'noop'],
    ['FAILED', 'FAILED', 'noop'],
    ['PROCESSING', 'STARTED', 'throws'],
    ['SUCCEEDED', 'PROCESSING', 'throws'],
    ['SUCCEEDED', 'FAILED', 'throws'],
    ['FAILED', 'SUCCEEDED', 'throws'],
  ])('%s → %s %s', (from, to, outcome) => {
    const item = { ...createExecutionItem(base, base.startedAt), status: from };
    if (outcome === 'throws') {
      expect(() => applyTransition(item, to, { at })).toThrow(InvalidTransitionError);
      return;
    }
    const next = applyTransition(item, to, { at });
    if (outcome === 'noop') expect(next).toBeUndefined();
    else expect(next).toMatchObject({ status: to, updatedAt: at, transitions: [{ status: 'STARTED' }, { status: to, at }] });
  });

  it('sets endedAt and durationMs on a terminal status, with outputs and a truncated failure', () => {
    const item = createExecutionItem(base, base.startedAt);
    const failed = applyTransition(item, 'FAILED', {
      at: '2026-01-01T00:00:02.500Z',
      failure: { error: 'E', cause: 'x'.repeat(10_000) },
    });
    expect(failed).toMatchObject({ endedAt: '2026-01-01T00:00:02.500Z', durationMs: 2500 });
    expect(failed?.failure?.cause.length).toBe(4096);
  });
});

describe('restartExecutionItem', () => {
  it('starts the next attempt, keeps the history and clears the failure', () => {
    const failed = applyTransition(createExecutionItem(base, base.startedAt), 'FAILED', {
      at: '2026-01-01T00:00:01.000Z',
      failure: { error: 'E', cause: 'c' },
    });
    const restarted = restartExecutionItem(failed ?? createExecutionItem(base, ''), base, '2026-01-02T00:00:00.000Z');
    expect(restarted).toMatchObject({ status: 'STARTED', attempt: 2, startedAt: '2026-01-02T00:00:00.000Z' });
    expect(restarted.transitions.map((t) => [t.status, t.attempt])).toEqual([
      ['STARTED', 1],
      ['FAILED', 1],
      ['STARTED', 2],
    ]);
    expect(restarted.failure).toBeUndefined();
    expect(restarted.endedAt).toBeUndefined();
  });
});

describe('failureOf', () => {
  it.each([
    [new TypeError('bad'), { error: 'TypeError', cause: 'bad' }],
    [
      { Error: 'RecordParseError', Cause: '{"errorType":"RecordParseError","errorMessage":"x.json:2: bad"}' },
      { error: 'RecordParseError', cause: 'x.json:2: bad' },
    ],
    [
      { Error: 'States.Timeout', Cause: 'Task timed out' },
      { error: 'States.Timeout', cause: 'Task timed out' },
    ],
    [
      { Error: 'States.TaskFailed', Cause: '{"ErrorMessage":"glue"}' },
      { error: 'States.TaskFailed', cause: 'glue' },
    ],
    [
      { Error: 'States.TaskFailed', Cause: '{"Id":"jr_1","JobName":"acme-dev-team-ds","JobRunState":"STOPPED","Attempt":0}' },
      { error: 'States.TaskFailed', cause: 'The job run jr_1 of the Glue job acme-dev-team-ds ended STOPPED.' },
    ],
    [{ Error: 'Lambda.Unknown' }, { error: 'Lambda.Unknown', cause: 'Lambda.Unknown' }],
    ['plain', { error: 'Error', cause: 'plain' }],
    [undefined, { error: 'Error', cause: 'undefined' }],
  ])('reads %j', (error, expected) => {
    expect(failureOf(error)).toEqual(expected);
  });

  it('keeps short causes unchanged', () => {
    expect(truncateFailure({ error: 'E', cause: 'c' })).toEqual({ error: 'E', cause: 'c' });
  });
});

describe('ids', () => {
  it('derives an object id from bucket, key and version (or etag)', () => {
    const v1 = objectIdOf({ bucket: 'b', key: 'k', versionId: 'v1' });
    expect(v1).toMatch(/^a-[0-9a-f]{40}$/);
    expect(objectIdOf({ bucket: 'b', key: 'k', versionId: 'v1', etag: 'other' })).toBe(v1);
    expect(objectIdOf({ bucket: 'b', key: 'k', versionId: 'v2' })).not.toBe(v1);
    expect(objectIdOf({ bucket: 'b', key: 'k', etag: 'e' })).not.toBe(objectIdOf({ bucket: 'b', key: 'k', etag: 'f' }));
  });

  it('derives a batch id from the sorted distinct keys', () => {
    expect(batchIdOf('t', 'd', ['b', 'a', 'a'])).toBe(batchIdOf('t', 'd', ['a', 'b']));
    expect(batchIdOf('t', 'd', ['a'])).not.toBe(batchIdOf('t', 'd', ['a', 'b']));
    expect(batchIdOf('t', 'd', ['a'])).toMatch(/^b-[0-9a-f]{40}$/);
  });

  it('derives a new batch id when the same keys were staged again by a new stage A execution', () => {
    // Given the same staged key, once from the first upload and once from a corrected one
    const first = batchIdOf('t', 'd', ['a'], ['e-1']);
    // Then a redelivery of the first batch keeps its id, and the corrected one gets a new id
    expect(batchIdOf('t', 'd', ['a'], ['e-1', 'e-1'])).toBe(first);
    expect(batchIdOf('t', 'd', ['a'], ['e-2'])).not.toBe(first);
  });

  it.each([
    ['t', 'd', 'persons', 't/d/persons.json', 't/d/persons/persons.json-3f3ae30ba07e.jsonl'],
    ['t', 'd', 'persons', 't/d/2024/01/persons.csv.gz', 't/d/persons/2024__01__persons.csv.gz-235b8c015bd5.jsonl'],
    ['t', 'd', 'x', 'elsewhere/file.json', 't/d/x/elsewhere__file.json-c7a0fead5feb.jsonl'],
    ['t', 'd', 'x', 't/d/a b[1]*?.json', 't/d/x/a_b_1___.json-16b188a241cb.jsonl'],
    ['t', 'd', 'x', 't/d/Ünïcode/日本.json', 't/d/x/Ünïcode__日本.json-5d57fdce3d54.jsonl'],
  ])('stages %s/%s table %s of %s at %s', (team, dataset, table, source, expected) => {
    expect(stagedKeyOf(team, dataset, table, source)).toBe(expected);
  });

  it.each([
    ['two extensions of one name', 't/d/persons.json', 't/d/persons.csv'],
    ['a folder and its flattened spelling', 't/d/2024/01/persons.json', 't/d/2024__01__persons.json'],
    ['a compressed and a plain object', 't/d/persons.json', 't/d/persons.json.gz'],
    ['characters mapped to "_"', 't/d/a b.json', 't/d/a_b.json'],
    ['a glob character and "_"', 't/d/a*.json', 't/d/a_.json'],
    ['an object outside the dataset prefix and one inside it', 'persons.json', 't/d/persons.json'],
    ['names alike in their first 200 characters', `t/d/${'x'.repeat(300)}.json`, `t/d/${'x'.repeat(300)}.csv`],
    ['case', 't/d/Persons.json', 't/d/persons.json'],
  ])('gives distinct raw keys distinct staged keys: %s', (_label, a, b) => {
    expect(stagedKeyOf('t', 'd', 'x', a)).not.toBe(stagedKeyOf('t', 'd', 'x', b));
  });

  it('gives every one of many similar raw keys its own staged key, the same on every call', () => {
    // Given every combination of tricky parts: folders, "__", extensions, separators mapped to "_"
    const parts = ['persons', 'persons.json', 'persons.csv', '2024', '2024__01', '01', 'a b', 'a_b', 'a*b', '_', '.', 'é'];
    const keys = new Set<string>();
    for (const a of parts) for (const b of parts) for (const c of parts) keys.add(`t/d/${a}/${b}${c}`);
    for (const key of [...keys]) keys.add(`t/d/${key.slice(4).replaceAll('/', '__')}`);
    // Then no two share a staged key, each stays under the table's folder, and the mapping is deterministic
    const staged = [...keys].map((key) => stagedKeyOf('t', 'd', 'x', key));
    expect(new Set(staged).size).toBe(keys.size);
    for (const key of staged) expect(key).toMatch(/^t\/d\/x\/[^/]+-[0-9a-f]{12}\.jsonl$/);
    expect([...keys].map((key) => stagedKeyOf('t', 'd', 'x', key))).toEqual(staged);
  });

  it('keeps staged keys within S3 limits for a raw key of 1,000 characters', () => {
    const key = stagedKeyOf('t', 'd', 'x', `t/d/${'é'.repeat(1000)}`);
    expect(Buffer.byteLength(key)).toBeLessThan(1024);
  });

  it('names workflows, manifests and results', () => {
    expect(workflowNameOf('a-1', 1)).toBe('a-1');
    expect(workflowNameOf('a-1', 3)).toBe('a-1-3');
    expect(manifestKeyOf('t', 'd', 'b-1')).toBe('manifests/t/d/b-1.json');
    expect(jobResultKeyOf('manifests/t/d/b-1.json')).toBe('manifests/t/d/b-1.result.json');
    expect(deduplicationIdOf('x', 1)).toMatch(/^[0-9a-f]{64}$/);
    expect(expiresAtOf(new Date('2026-01-01T00:00:00Z'), 1)).toBe(Date.parse('2026-01-02T00:00:00Z') / 1000);
  });

  it('parses s3 URIs and throws for anything else', () => {
    expect(parseS3Uri('s3://b/k/x.json')).toEqual({ bucket: 'b', key: 'k/x.json' });
    expect(() => parseS3Uri('https://b/k')).toThrow(/not an s3:\/\/bucket\/key URI/);
  });
});

describe('cachedDatasetConfig', () => {
  it('reads a known dataset once per TTL and an unknown one once per shorter TTL', async () => {
    let reads = 0;
    let now = 0;
    const source: DatasetConfigSource = {
      get: async (team, dataset) => {
        reads++;
        return dataset === 'legislators' ? datasetConfig({ team, dataset }) : undefined;
      },
      list: async () => {
        reads++;
        return [datasetConfig()];
      },
    };
    const cached = cachedDatasetConfig(source, { clock: () => new Date(now) });
    await cached.get('demoteam', 'legislators');
    await cached.get('demoteam', 'legislators');
    await cached.get('demoteam', 'unknown');
    await cached.get('demoteam', 'unknown');
    await cached.list('demoteam');
    await cached.list('demoteam');
    expect(reads).toBe(3);
    // @default unknownTtlMs 5 s: the unknown dataset is read again, the known one is not
    now = 5_000;
    await cached.get('demoteam', 'unknown');
    await cached.get('demoteam', 'legislators');
    expect(reads).toBe(4);
    // @default ttlMs 60 s
    now = 60_000;
    await cached.get('demoteam', 'legislators');
    await cached.list('demoteam');
    expect(reads).toBe(6);
  });

  it('does not cache a failed read', async () => {
    let calls = 0;
    const cached = cachedDatasetConfig({
      get: async () => {
        calls++;
        if (calls === 1) throw new Error('throttled');
        return datasetConfig();
      },
      list: async () => [],
    });
    await expect(cached.get('demoteam', 'legislators')).rejects.toThrow('throttled');
    await expect(cached.get('demoteam', 'legislators')).resolves.toMatchObject({ dataset: 'legislators' });
  });
});
