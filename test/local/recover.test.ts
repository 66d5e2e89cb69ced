import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalMetadataStore } from '../../src/local/metadata-store.js';
import { recoverInterruptedRun, unbatchedStagedObjects } from '../../src/local/recover.js';
import { datasetKeyOf } from '../../src/runtime/core/model.js';
import { binPath, cliEnv, ensureBuilt, sdlf } from '../helpers/cli.js';
import { tempDir } from '../helpers/project.js';
import { createLegislatorsProject, DEFAULT_LIGHT_TRANSFORM } from './fixture.js';

/** A light transform that stages 500 memberships and then hangs, while the file BLOCK exists in the project. */
const HANGING_LIGHT_TRANSFORM = `import { existsSync } from 'node:fs';
import { defineLightTransform, flattenRecord, readRecords, tableNameOf } from 'sdlf/transform';

export default defineLightTransform(async function* (input) {
  const table = tableNameOf(input.key);
  let n = 0;
  for await (const record of readRecords(input)) {
    yield { table, record: flattenRecord(record) };
    if (table === 'memberships' && ++n === 500 && existsSync(${JSON.stringify('BLOCK')})) {
      await new Promise(() => setInterval(() => {}, 1000));
    }
  }
});
`;

/** Every path under `dir` whose name marks a leftover of a run: temporary files and stage B staging folders. */
function leftovers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry.endsWith('.sdlf-tmp') || entry.startsWith('.sdlf-stage-b-')) found.push(path);
    else if (statSync(path).isDirectory()) found.push(...leftovers(path));
  }
  return found;
}

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a local run killed with kill -9', () => {
  let root: string;
  let local: string;
  let rerun: Awaited<ReturnType<typeof sdlf>>;

  beforeAll(async () => {
    ensureBuilt();
    // Given a run whose memberships transform hangs after staging 500 records, killed with SIGKILL meanwhile
    root = await createLegislatorsProject({ lightTransform: HANGING_LIGHT_TRANSFORM });
    local = join(root, '.sdlf', 'local', 'dev');
    writeFileSync(join(root, 'BLOCK'), '');
    const args = ['run', '--local', '--team', 'demoteam', '--dataset', 'legislators', '--path', root];
    const child = execa('node', [binPath, ...args], { reject: false, extendEnv: false, env: cliEnv(), cwd: root });
    const history = join(local, 'metadata', 'execution-history.json');
    await until(
      () => existsSync(history) && /"PROCESSING"/.test(readFileSync(history, 'utf8')) && leftovers(local).length > 0,
      'a stage A execution in PROCESSING with its staged output being written',
    );
    child.kill('SIGKILL');
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');
    expect(leftovers(local).length).toBeGreaterThan(0);
    // When the user runs it again
    writeFileSync(join(root, 'transforms', 'light', 'legislators_light.ts'), DEFAULT_LIGHT_TRANSFORM);
    rerun = await sdlf(args);
  }, 180_000);

  it('says what it found, removes the leftovers and gives exact counts', () => {
    expect(rerun.exitCode).toBe(0);
    expect(rerun.stderr.replace(/\s+/g, ' ')).toMatch(
      /An earlier local run of this environment ended before it finished: 1 execution\(s\) marked INTERRUPTED \(\S+\) and [1-9]\d* temporary file\(s\) removed\. This run processes their objects again\./,
    );
    expect(leftovers(local)).toEqual([]);
    expect(rerun.stdout).toMatch(/persons\s+1,961 rows/);
    expect(rerun.stdout).toMatch(/memberships\s+10,439 rows/);
    expect(rerun.stdout).toMatch(/organizations\s+13 rows/);
  });

  it('shows the killed attempt as INTERRUPTED in status --local, and its restart as SUCCEEDED', async () => {
    const status = await sdlf(['status', '--local', '--path', root, '--json']);
    expect(status.exitCode).toBe(0);
    const executions = (
      JSON.parse(status.stdout) as {
        datasets: Array<{ executions: Array<{ stage: string; status: string; attempt?: number; transitions?: unknown }> }>;
      }
    ).datasets.flatMap((d) => d.executions);
    expect(executions.filter((e) => e.status !== 'SUCCEEDED')).toEqual([]);
    const history = JSON.parse(readFileSync(join(local, 'metadata', 'execution-history.json'), 'utf8')) as Array<{
      status: string;
      attempt: number;
      transitions: Array<{ status: string }>;
    }>;
    const restarted = history.filter((e) => e.transitions.some((t) => t.status === 'INTERRUPTED'));
    expect(restarted).toHaveLength(1);
    expect(restarted[0]).toMatchObject({ status: 'SUCCEEDED', attempt: 2 });
    expect(restarted[0]?.transitions.map((t) => t.status)).toEqual([
      'STARTED',
      'PROCESSING',
      'INTERRUPTED',
      'STARTED',
      'PROCESSING',
      'SUCCEEDED',
    ]);
  });
});

describe('recoverInterruptedRun', () => {
  it('marks an unfinished stage B batch INTERRUPTED and gives its staged objects back to be batched again', async () => {
    // Given a stage A execution that staged one object, and a stage B batch that claimed it and never ended
    const dir = tempDir('sdlf-recover-');
    const clock = () => new Date('2026-12-05T10:00:00.000Z');
    const metadata = createLocalMetadataStore({ dir: join(dir, 'metadata'), clock });
    const at = clock().toISOString();
    const base = { team: 'demoteam', dataset: 'legislators' };
    const execution = (id: string, stage: 'a' | 'b', source: string, keys?: string[]) => ({
      ...base,
      id,
      stage,
      source,
      pipeline: 'standard',
      datasetKey: datasetKeyOf('demoteam', 'legislators'),
      startedAt: at,
      expiresAt: Math.floor(clock().getTime() / 1000) + 86_400,
      ...(keys ? { keys } : {}),
    });
    await metadata.startExecution(execution('exec-a', 'a', 's3://raw/demoteam/legislators/p.json'), at);
    await metadata.transition('demoteam', 'exec-a', 'SUCCEEDED', { at });
    const key = 'demoteam/legislators/persons/p.json';
    await metadata.putStagedObject({
      id: `s3://stage/${key}`,
      bucket: 'stage',
      key,
      stage: 'stage',
      status: 'STAGED',
      team: 'demoteam',
      dataset: 'legislators',
      executionId: 'exec-a',
      table: 'persons',
      source: 's3://raw/demoteam/legislators/p.json',
      recordedAt: at,
    });
    await metadata.startExecution(execution('exec-b', 'b', 's3://artifacts/m.json', [key]), at);
    await metadata.transition('demoteam', 'exec-b', 'PROCESSING', { at });
    await metadata.claimStaged('demoteam', [`s3://stage/${key}`], 'exec-b');
    expect(await unbatchedStagedObjects(metadata, base)).toEqual([]);

    // When the next run recovers
    const recovered = await recoverInterruptedRun(dir, metadata, { at, stageBucket: 'stage' });

    // Then the batch is INTERRUPTED (and may start again), and its object is offered to stage B again
    expect(recovered.interrupted.map((e) => `${e.id}:${e.status}`)).toEqual(['exec-b:INTERRUPTED']);
    expect((await metadata.getExecution('demoteam', 'exec-b'))?.failure?.error).toBe('Interrupted');
    expect(await metadata.stagedClaims('demoteam', [`s3://stage/${key}`])).toEqual(new Map());
    expect(await unbatchedStagedObjects(metadata, base)).toEqual([
      { bucket: 'stage', key, team: 'demoteam', dataset: 'legislators', sourceExecutionId: 'exec-a' },
    ]);
    const restart = await metadata.startExecution(execution('exec-b', 'b', 's3://artifacts/m.json', [key]), at);
    expect(restart).toMatchObject({ existed: false, execution: { status: 'STARTED', attempt: 2 } });
  });
});
