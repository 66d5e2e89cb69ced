import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_SUFFIX } from '../core/atomic.js';
import type { StageBMessage } from '../runtime/contract.js';
import { type ExecutionItem, objectUri, TERMINAL_STATUSES } from '../runtime/core/model.js';
import type { MetadataStore } from '../runtime/core/ports.js';
import { STAGE_B_STAGING_PREFIX } from './duckdb-transform.js';
import type { LocalMetadataStore } from './metadata-store.js';

/** What {@link recoverInterruptedRun} found of a run that ended before it finished. */
export interface RecoveredRun {
  /** Executions the earlier run left STARTED or PROCESSING, now INTERRUPTED. */
  readonly interrupted: readonly ExecutionItem[];
  /** Temporary files and stage B staging folders it left, now removed (absolute paths). */
  readonly removed: readonly string[];
}

/** Most executions one recovery looks at: far above what one local environment keeps (they expire). */
const RECOVERY_SCAN_LIMIT = 100_000;

/**
 * Cleans up after a local run that was killed (or whose machine stopped) before it finished. It must be called by
 * the holder of the local lock, so nothing else is running in `localDir`: every temporary file (`*.sdlf-tmp`) and
 * stage B staging folder there is a leftover, and every execution still STARTED or PROCESSING belongs to a run
 * that is gone. Those executions become INTERRUPTED, which a later start restarts (see `canRestart`), and an
 * interrupted stage B batch gives its staged objects back (`stageBucket` is where they are), so they can be
 * batched again. The object and metadata files themselves were written atomically, so nothing else needs repair.
 */
export async function recoverInterruptedRun(
  localDir: string,
  metadata: Pick<MetadataStore, 'listExecutions' | 'transition' | 'releaseStaged'>,
  options: { readonly at: string; readonly stageBucket: string },
): Promise<RecoveredRun> {
  const removed: string[] = [];
  for (const path of await leftovers(localDir)) {
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  const interrupted: ExecutionItem[] = [];
  for (const execution of await metadata.listExecutions({ limit: RECOVERY_SCAN_LIMIT })) {
    if (TERMINAL_STATUSES.includes(execution.status)) continue;
    const item = await metadata.transition(execution.team, execution.id, 'INTERRUPTED', {
      at: options.at,
      note: 'the local run that started it ended before it finished',
      failure: {
        error: 'Interrupted',
        cause: `the local run that started this execution ended while it was ${execution.status} (killed, or its machine stopped); the next run of its dataset processes it again.`,
      },
    });
    if (item.stage === 'b' && item.keys) {
      await metadata.releaseStaged(
        item.team,
        item.keys.map((key) => objectUri(options.stageBucket, key)),
        item.id,
      );
    }
    interrupted.push(item);
  }
  return { interrupted, removed };
}

/**
 * Stage B messages for a dataset's staged objects that no stage B batch holds and none failed with: objects whose
 * message was lost with a run that ended between stage A and stage B (the local queue lives in memory), or that an
 * interrupted batch gave back. Objects whose stage A execution did not succeed are left out (a restarted stage A
 * stages them again), and so are objects a failed batch gave back (they wait for a redrive, as on AWS).
 */
export async function unbatchedStagedObjects(
  metadata: Pick<LocalMetadataStore, 'listObjects' | 'listExecutions'>,
  dataset: { readonly team: string; readonly dataset: string },
): Promise<StageBMessage[]> {
  const executions = await metadata.listExecutions({ team: dataset.team, dataset: dataset.dataset, limit: RECOVERY_SCAN_LIMIT });
  const succeeded = new Set(executions.filter((e) => e.stage === 'a' && e.status === 'SUCCEEDED').map((e) => e.id));
  /** When a failed batch that held each key started: an object staged before then waits for a redrive. */
  const failedWith = new Map<string, string>();
  for (const e of executions) {
    if (e.stage !== 'b' || e.status !== 'FAILED') continue;
    for (const key of e.keys ?? []) if ((failedWith.get(key) ?? '') < e.startedAt) failedWith.set(key, e.startedAt);
  }
  const messages: StageBMessage[] = [];
  for (const item of await metadata.listObjects()) {
    if (item.stage !== 'stage' || item.status !== 'STAGED' || item.batchId !== undefined) continue;
    if (item.team !== dataset.team || item.dataset !== dataset.dataset) continue;
    if (item.executionId === undefined || !succeeded.has(item.executionId)) continue;
    if (item.recordedAt <= (failedWith.get(item.key) ?? '')) continue;
    messages.push({
      bucket: item.bucket,
      key: item.key,
      team: dataset.team,
      dataset: dataset.dataset,
      sourceExecutionId: item.executionId,
    });
  }
  return messages;
}

async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name.startsWith(STAGE_B_STAGING_PREFIX)) found.push(path);
    else if (entry.isDirectory()) found.push(...(await leftovers(path)));
    else if (entry.name.endsWith(TEMP_SUFFIX)) found.push(path);
  }
  return found;
}
