import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../core/atomic.js';
import { METADATA_KEYS } from '../runtime/contract.js';
import {
  claimStagedItem,
  executionKeyOf,
  heldBatches,
  loadedItem,
  type MetadataTableKind,
  objectKeyOf,
  pipelineItemOf,
  rekeyedLegacyItem,
  releasedStagedItem,
  stagedKeyOwner,
  startedExecution,
  transitionedExecution,
  withLastRun,
} from '../runtime/core/metadata-items.js';
import {
  type DatasetItem,
  datasetKeyOf,
  type ExecutionItem,
  type ExecutionStatus,
  type NewExecution,
  type ObjectMetadataItem,
  type PipelineItem,
  type PipelineRun,
  type TransitionDetails,
} from '../runtime/core/model.js';
import type { ListExecutionsOptions, MetadataStore, StagedObjectItem, StartExecutionResult } from '../runtime/core/ports.js';

/** File of each metadata table in the local store's folder. */
export const LOCAL_TABLE_FILES = {
  objectMetadata: 'object-metadata.json',
  datasets: 'datasets.json',
  pipelines: 'pipelines.json',
  executionHistory: 'execution-history.json',
} as const;

type TableName = MetadataTableKind & keyof typeof LOCAL_TABLE_FILES;

/** The tables, each keyed as DynamoDB keys it (`{team}/…`); the items as the store hands them out. */
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
 * items each, in the DynamoDB item shapes) under `dir`. It applies the same rules as the DynamoDB adapter
 * (`src/runtime/core/metadata-items.ts`): conditional starts, restarts of FAILED executions, transitions only
 * along `ALLOWED_TRANSITIONS`; TTL-expired executions are invisible. Every change
 * rewrites its table file atomically, so an interrupted run leaves each table as it was before or after a change.
 * Operations are serialised; one process at a time may use a folder (the local run holds a lock).
 */
export function createLocalMetadataStore(options: LocalMetadataStoreOptions): LocalMetadataStore {
  return new JsonFileMetadataStore(options.dir, options.clock ?? (() => new Date()));
}

/** The tables of {@link createLocalMetadataStore}, loaded once and held in maps, each change written through. */
class JsonFileMetadataStore implements LocalMetadataStore {
  private loaded: Promise<Tables> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly clock: () => Date,
  ) {}

  putObject(team: string, item: ObjectMetadataItem): Promise<void> {
    return this.serial(async (t) => {
      t.objectMetadata.set(objectKeyOf(team, item.id), item);
      await this.save(t, 'objectMetadata');
    });
  }

  putStagedObject(item: StagedObjectItem): Promise<string | undefined> {
    return this.serial(async (t) => {
      const key = objectKeyOf(item.team, item.id);
      const owner = stagedKeyOwner(t.objectMetadata.get(key), item);
      if (owner !== undefined) return owner;
      t.objectMetadata.set(key, item);
      await this.save(t, 'objectMetadata');
      return undefined;
    });
  }

  getDataset(team: string, dataset: string): Promise<DatasetItem | undefined> {
    return this.serial(async (t) => t.datasets.get(datasetKeyOf(team, dataset)));
  }

  putDataset(item: DatasetItem): Promise<void> {
    return this.serial(async (t) => {
      t.datasets.set(item.name, item);
      await this.save(t, 'datasets');
    });
  }

  startExecution(execution: NewExecution, at: string): Promise<StartExecutionResult> {
    return this.serial(async (t) => {
      const key = executionKeyOf(execution.team, execution.id);
      const start = startedExecution(this.live(t.executionHistory.get(key)), execution, at);
      if (start.existed) return start;
      t.executionHistory.set(key, start.execution);
      await this.save(t, 'executionHistory');
      return start;
    });
  }

  transition(team: string, executionId: string, status: ExecutionStatus, details: TransitionDetails): Promise<ExecutionItem> {
    return this.serial(async (t) => {
      const key = executionKeyOf(team, executionId);
      const change = transitionedExecution(executionId, this.live(t.executionHistory.get(key)), status, details);
      if (!change.changed) return change.execution;
      t.executionHistory.set(key, change.execution);
      await this.save(t, 'executionHistory');
      return change.execution;
    });
  }

  getExecution(team: string, executionId: string): Promise<ExecutionItem | undefined> {
    return this.serial(async (t) => this.live(t.executionHistory.get(executionKeyOf(team, executionId))));
  }

  listExecutions({ team, dataset, limit }: ListExecutionsOptions): Promise<ExecutionItem[]> {
    return this.serial(async (t) => {
      const key = team !== undefined && dataset !== undefined ? datasetKeyOf(team, dataset) : undefined;
      return [...t.executionHistory.values()]
        .filter((item) => this.live(item))
        .filter((item) => (key ? item.datasetKey === key : team === undefined || item.team === team))
        .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : -1))
        .slice(0, limit);
    });
  }

  recordPipelineRun(run: PipelineRun): Promise<void> {
    return this.serial(async (t) => {
      const item = pipelineItemOf(run);
      t.pipelines.set(item.name, item);
      await this.save(t, 'pipelines');
      // The dataset's last run of the stage, as the DynamoDB and in-memory stores record it.
      const datasetName = datasetKeyOf(run.team, run.execution.dataset);
      const dataset = t.datasets.get(datasetName);
      if (dataset) {
        t.datasets.set(datasetName, withLastRun(dataset, run));
        await this.save(t, 'datasets');
      }
    });
  }

  claimStaged(team: string, objectIds: readonly string[], batchId: string): Promise<Map<string, string | undefined>> {
    return this.serial(async (t) => {
      const holders = new Map<string, string | undefined>();
      let changed = false;
      for (const id of objectIds) {
        const key = objectKeyOf(team, id);
        const { holder, claimed } = claimStagedItem(t.objectMetadata.get(key), batchId);
        if (claimed) {
          t.objectMetadata.set(key, claimed);
          changed = true;
        }
        holders.set(id, holder);
      }
      if (changed) await this.save(t, 'objectMetadata');
      return holders;
    });
  }

  stagedClaims(team: string, objectIds: readonly string[]): Promise<Map<string, string>> {
    return this.serial(async (t) => heldBatches(objectIds, (id) => t.objectMetadata.get(objectKeyOf(team, id))));
  }

  releaseStaged(team: string, objectIds: readonly string[], batchId: string): Promise<void> {
    return this.serial(async (t) => {
      let changed = false;
      for (const id of objectIds) {
        const key = objectKeyOf(team, id);
        const released = releasedStagedItem(t.objectMetadata.get(key), batchId);
        if (!released) continue;
        t.objectMetadata.set(key, released);
        changed = true;
      }
      if (changed) await this.save(t, 'objectMetadata');
    });
  }

  listObjects(): Promise<ObjectMetadataItem[]> {
    return this.serial(async (t) => [...t.objectMetadata.values()].sort((a, b) => (a.id < b.id ? -1 : 1)));
  }

  listPipelines(): Promise<PipelineItem[]> {
    return this.serial(async (t) => [...t.pipelines.values()].sort((a, b) => (a.name < b.name ? -1 : 1)));
  }

  /** Runs one operation after the previous one has finished, so read-modify-write steps never interleave. */
  private serial<T>(operation: (t: Tables) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => operation(await this.tables()));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private tables(): Promise<Tables> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  private async load(): Promise<Tables> {
    return {
      objectMetadata: await readTable<ObjectMetadataItem>(this.dir, 'objectMetadata'),
      datasets: await readTable<DatasetItem>(this.dir, 'datasets'),
      pipelines: await readTable<PipelineItem>(this.dir, 'pipelines'),
      // Expired items are dropped as DynamoDB's TTL deletes them; the next write leaves them out of the file.
      executionHistory: new Map(
        [...(await readTable<ExecutionItem>(this.dir, 'executionHistory'))].filter(([, item]) => this.live(item)),
      ),
    };
  }

  /** Writes a table as DynamoDB stores it: each item under its key. */
  private async save(t: Tables, table: TableName): Promise<void> {
    const items = [...t[table].entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => ({ ...item, [METADATA_KEYS[table].partitionKey]: key }));
    await replaceFile(join(this.dir, LOCAL_TABLE_FILES[table]), `${JSON.stringify(items, null, 2)}\n`);
  }

  /** The item, unless its TTL has passed (then it is as gone as DynamoDB's TTL makes it). */
  private live(item: ExecutionItem | undefined): ExecutionItem | undefined {
    return item && item.expiresAt * 1000 > this.clock().getTime() ? item : undefined;
  }
}

/**
 * Reads a table file into a map by key. An item written before the key layout (by an earlier sdlf) is read under
 * its team's key, as `sdlf migrate-keys` rewrites it on AWS, and written so by the next change of its table.
 */
async function readTable<T>(dir: string, table: TableName): Promise<Map<string, T>> {
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
  return new Map(
    (items as Array<Record<string, unknown>>).map((item) => {
      const rekeyed = rekeyedLegacyItem(table, item);
      const stored = rekeyed.kind === 'rekeyed' ? rekeyed.item : item;
      const key = String(stored[METADATA_KEYS[table].partitionKey]);
      const held = table === 'objectMetadata' || table === 'executionHistory' ? loadedItem(stored as { id: string }) : stored;
      return [key, held as T];
    }),
  );
}
