import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyTransition, canRestart, createExecutionItem, restartExecutionItem } from '../runtime/core/executions.js';
import {
  type DatasetItem,
  datasetKeyOf,
  type ExecutionItem,
  heldBatches,
  type ObjectMetadataItem,
  type PipelineItem,
  pipelineKeyOf,
  withoutBatch,
} from '../runtime/core/model.js';
import { InvalidTransitionError, type MetadataStore, stagedKeyOwner } from '../runtime/core/ports.js';
import { replaceFile } from './atomic.js';

/** File of each metadata table in the local store's folder. */
export const LOCAL_TABLE_FILES = {
  objectMetadata: 'object-metadata.json',
  datasets: 'datasets.json',
  pipelines: 'pipelines.json',
  executionHistory: 'execution-history.json',
} as const;

type TableName = keyof typeof LOCAL_TABLE_FILES;

interface Tables {
  objectMetadata: Map<string, ObjectMetadataItem>;
  datasets: Map<string, DatasetItem>;
  pipelines: Map<string, PipelineItem>;
  executionHistory: Map<string, ExecutionItem>;
}

/** Options of {@link createLocalMetadataStore}. */
export interface LocalMetadataStoreOptions {
  /** Folder of the table files (`.sdlf/local/<env>/metadata`). */
  readonly dir: string;
  /** Returns the current time; decides which execution items have expired (TTL). @default () => new Date() */
  readonly clock?: () => Date;
}

/** A {@link MetadataStore} kept in JSON files, with a read of the raw tables for `sdlf status --local`. */
export interface LocalMetadataStore extends MetadataStore {
  /** Lists every item of the `ObjectMetadata` table, by id. */
  listObjects(): Promise<ObjectMetadataItem[]>;
  /** Lists every item of the `Pipelines` table, by name. */
  listPipelines(): Promise<PipelineItem[]>;
}

/**
 * Creates the metadata store of `sdlf run --local`: the four metadata tables as JSON files (a sorted array of
 * items each, in the DynamoDB item shapes) under `dir`. It applies the same execution rules as the DynamoDB
 * adapter (`src/runtime/core/executions.ts`): conditional starts, restarts of FAILED executions, transitions only
 * along `ALLOWED_TRANSITIONS`; TTL-expired executions are invisible. Every change
 * rewrites its table file atomically, so an interrupted run leaves each table as it was before or after a change.
 * Operations are serialised; one process at a time may use a folder (the local run holds a lock).
 */
export function createLocalMetadataStore(options: LocalMetadataStoreOptions): LocalMetadataStore {
  const clock = options.clock ?? (() => new Date());
  let loaded: Promise<Tables> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const tables = () => {
    loaded ??= (async () => ({
      objectMetadata: await readTable<ObjectMetadataItem>(options.dir, 'objectMetadata', (i) => i.id),
      datasets: await readTable<DatasetItem>(options.dir, 'datasets', (i) => i.name),
      pipelines: await readTable<PipelineItem>(options.dir, 'pipelines', (i) => i.name),
      // Expired items are dropped as DynamoDB's TTL deletes them; the next write leaves them out of the file.
      executionHistory: new Map(
        [...(await readTable<ExecutionItem>(options.dir, 'executionHistory', (i) => i.id))].filter(([, item]) => live(item)),
      ),
    }))();
    return loaded;
  };
  /** Runs one operation after the previous one has finished, so read-modify-write steps never interleave. */
  const serial = <T>(operation: (t: Tables) => Promise<T>): Promise<T> => {
    const next = queue.then(async () => operation(await tables()));
    queue = next.catch(() => undefined);
    return next;
  };
  const save = async (t: Tables, table: TableName) => {
    const items = [...t[table].entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
    await replaceFile(join(options.dir, LOCAL_TABLE_FILES[table]), `${JSON.stringify(items, null, 2)}\n`);
  };
  const live = (item: ExecutionItem | undefined) => (item && item.expiresAt * 1000 > clock().getTime() ? item : undefined);

  return {
    putObject: (item) =>
      serial(async (t) => {
        t.objectMetadata.set(item.id, item);
        await save(t, 'objectMetadata');
      }),
    putStagedObject: (item) =>
      serial(async (t) => {
        const owner = stagedKeyOwner(t.objectMetadata.get(item.id), item);
        if (owner !== undefined) return owner;
        t.objectMetadata.set(item.id, item);
        await save(t, 'objectMetadata');
        return undefined;
      }),
    getDataset: (team, dataset) => serial(async (t) => t.datasets.get(datasetKeyOf(team, dataset))),
    putDataset: (item) =>
      serial(async (t) => {
        t.datasets.set(item.name, item);
        await save(t, 'datasets');
      }),
    startExecution: (execution, at) =>
      serial(async (t) => {
        const existing = live(t.executionHistory.get(execution.id));
        if (existing && !canRestart(existing)) return { execution: existing, existed: true };
        const item = existing ? restartExecutionItem(existing, execution, at) : createExecutionItem(execution, at);
        t.executionHistory.set(item.id, item);
        await save(t, 'executionHistory');
        return { execution: item, existed: false };
      }),
    transition: (executionId, status, details) =>
      serial(async (t) => {
        const existing = live(t.executionHistory.get(executionId));
        if (!existing) throw new InvalidTransitionError(executionId, undefined, status);
        const item = applyTransition(existing, status, details);
        if (!item) return existing;
        t.executionHistory.set(executionId, item);
        await save(t, 'executionHistory');
        return item;
      }),
    getExecution: (executionId) => serial(async (t) => live(t.executionHistory.get(executionId))),
    listExecutions: ({ team, dataset, limit }) =>
      serial(async (t) => {
        const key = team !== undefined && dataset !== undefined ? datasetKeyOf(team, dataset) : undefined;
        return [...t.executionHistory.values()]
          .filter((item) => live(item))
          .filter((item) => (key ? item.datasetKey === key : team === undefined || item.team === team))
          .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : -1))
          .slice(0, limit);
      }),
    recordPipelineRun: (run) =>
      serial(async (t) => {
        const name = pipelineKeyOf(run.team, run.pipeline, run.stage);
        t.pipelines.set(name, {
          name,
          team: run.team,
          pipeline: run.pipeline,
          stage: run.stage,
          lastExecution: run.execution,
          updatedAt: run.execution.at,
        });
        await save(t, 'pipelines');
      }),
    claimStaged: (objectIds, batchId) =>
      serial(async (t) => {
        const holders = new Map<string, string | undefined>();
        let changed = false;
        for (const id of objectIds) {
          const item = t.objectMetadata.get(id);
          if (item && item.batchId === undefined) {
            t.objectMetadata.set(id, { ...item, batchId });
            changed = true;
          }
          holders.set(id, item ? (item.batchId ?? batchId) : undefined);
        }
        if (changed) await save(t, 'objectMetadata');
        return holders;
      }),
    stagedClaims: (objectIds) => serial(async (t) => heldBatches(objectIds, (id) => t.objectMetadata.get(id))),
    releaseStaged: (objectIds, batchId) =>
      serial(async (t) => {
        const held = objectIds.filter((id) => t.objectMetadata.get(id)?.batchId === batchId);
        for (const id of held) t.objectMetadata.set(id, withoutBatch(t.objectMetadata.get(id) as ObjectMetadataItem));
        if (held.length > 0) await save(t, 'objectMetadata');
      }),
    listObjects: () => serial(async (t) => [...t.objectMetadata.values()].sort((a, b) => (a.id < b.id ? -1 : 1))),
    listPipelines: () => serial(async (t) => [...t.pipelines.values()].sort((a, b) => (a.name < b.name ? -1 : 1))),
  };
}

async function readTable<T>(dir: string, table: TableName, keyOf: (item: T) => string): Promise<Map<string, T>> {
  const file = join(dir, LOCAL_TABLE_FILES[table]);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return new Map();
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch (error) {
    throw new Error(`The local metadata table ${file} is not valid JSON (${(error as Error).message}).`);
  }
  if (!Array.isArray(items)) throw new Error(`The local metadata table ${file} is not a JSON array of items.`);
  return new Map((items as T[]).map((item) => [keyOf(item), item]));
}
