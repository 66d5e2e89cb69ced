/**
 * What every {@link MetadataStore} writes, decided without storage: the items a change produces and the
 * conditions it must meet. The DynamoDB, in-memory and local JSON stores read, call one of these, and write
 * (DynamoDB with a condition expression that states the same rule, so a concurrent writer cannot slip between).
 */
import { METADATA_KEYS, metadataKeyOf, parseMetadataKey } from '../contract.js';
import { applyTransition, canRestart, createExecutionItem, restartExecutionItem } from './executions.js';
import type {
  DatasetItem,
  ExecutionItem,
  ExecutionStatus,
  NewExecution,
  ObjectMetadataItem,
  PipelineItem,
  PipelineRun,
  TransitionDetails,
} from './model.js';
import { datasetKeyOf, pipelineKeyOf } from './model.js';
import { InvalidTransitionError, type MetadataStore, type StagedObjectItem, type StartExecutionResult } from './ports.js';

/**
 * Decides {@link MetadataStore.startExecution} against the stored item: the stored item (`existed`) when it cannot
 * be restarted, otherwise the item to write, new or restarted.
 */
export function startedExecution(existing: ExecutionItem | undefined, execution: NewExecution, at: string): StartExecutionResult {
  if (existing && !canRestart(existing)) return { execution: existing, existed: true };
  const item = existing ? restartExecutionItem(existing, execution, at) : createExecutionItem(execution, at);
  return { execution: item, existed: false };
}

/** What {@link transitionedExecution} decided. */
export interface ExecutionChange {
  /** The item after the change: the one to write, or the stored one when nothing changes. */
  readonly execution: ExecutionItem;
  /** Whether `execution` has to be written (false when the execution already has the status). */
  readonly changed: boolean;
}

/**
 * Decides {@link MetadataStore.transition} against the stored item. Throws {@link InvalidTransitionError} when the
 * execution does not exist or may not make the change.
 */
export function transitionedExecution(
  executionId: string,
  existing: ExecutionItem | undefined,
  status: ExecutionStatus,
  details: TransitionDetails,
): ExecutionChange {
  if (!existing) throw new InvalidTransitionError(executionId, undefined, status);
  const next = applyTransition(existing, status, details);
  return next ? { execution: next, changed: true } : { execution: existing, changed: false };
}

/** The `Pipelines` item that records `run` as the last run of its stage. */
export function pipelineItemOf(run: PipelineRun): PipelineItem {
  return {
    name: pipelineKeyOf(run.team, run.pipeline, run.stage),
    team: run.team,
    pipeline: run.pipeline,
    stage: run.stage,
    lastExecution: run.execution,
    updatedAt: run.execution.at,
  };
}

/** The field of a `Datasets` item that holds the last run of a stage. */
export function lastRunField(stage: 'a' | 'b'): 'lastStageA' | 'lastStageB' {
  return stage === 'a' ? 'lastStageA' : 'lastStageB';
}

/** A `Datasets` item with `run` as the last run of its stage, its other fields kept. */
export function withLastRun(item: DatasetItem, run: PipelineRun): DatasetItem {
  return { ...item, [lastRunField(run.stage)]: run.execution, updatedAt: run.execution.at };
}

/** The `source` of an item that stops `item` from being written, if any (see {@link MetadataStore.putStagedObject}). */
export function stagedKeyOwner(existing: ObjectMetadataItem | undefined, item: StagedObjectItem): string | undefined {
  return existing?.source !== undefined && existing.source !== item.source ? existing.source : undefined;
}

/** What a stage B claim ({@link MetadataStore.claimStaged}) does to one staged object's item. */
export interface StagedClaim {
  /** The batch that holds the object after the claim; `undefined` for an object without an item. */
  readonly holder: string | undefined;
  /** The item to write when the claim took the object; absent when nothing changes. */
  readonly claimed?: ObjectMetadataItem;
}

/** Claims one staged object's item for `batchId`, unless it is missing or another batch holds it. */
export function claimStagedItem(item: ObjectMetadataItem | undefined, batchId: string): StagedClaim {
  if (!item) return { holder: undefined };
  if (item.batchId !== undefined) return { holder: item.batchId };
  return { holder: batchId, claimed: { ...item, batchId } };
}

/** The item to write to give a staged object back from `batchId`; `undefined` when that batch does not hold it. */
export function releasedStagedItem(item: ObjectMetadataItem | undefined, batchId: string): ObjectMetadataItem | undefined {
  return item?.batchId === batchId ? withoutBatch(item) : undefined;
}

/** An `ObjectMetadata` item without its stage B claim ({@link ObjectMetadataItem.batchId}). */
export function withoutBatch(item: ObjectMetadataItem): ObjectMetadataItem {
  const { batchId: _released, ...rest } = item;
  return rest;
}

/** The batch holding each of `objectIds` whose item (read through `get`) has one. */
export function heldBatches(
  objectIds: readonly string[],
  get: (id: string) => ObjectMetadataItem | undefined,
): Map<string, string> {
  const held = new Map<string, string>();
  for (const id of objectIds) {
    const batchId = get(id)?.batchId;
    if (batchId !== undefined) held.set(id, batchId);
  }
  return held;
}

/** `{team}/s3://bucket/key`: the partition key an `ObjectMetadata` item of `team` is stored under. */
export function objectKeyOf(team: string, objectId: string): string {
  return metadataKeyOf(team, objectId);
}

/** `{team}/{execution id}`: the partition key an execution history item is stored under. */
export function executionKeyOf(team: string, executionId: string): string {
  return metadataKeyOf(team, executionId);
}

/** An `ObjectMetadata` item as stored: its `id` is the key of `team` ({@link objectKeyOf}). */
export function storedObjectItem(team: string, item: ObjectMetadataItem): ObjectMetadataItem {
  return { ...item, id: objectKeyOf(team, item.id) };
}

/** An execution history item as stored: its `id` is the key of its team ({@link executionKeyOf}). */
export function storedExecutionItem(item: ExecutionItem): ExecutionItem {
  return { ...item, id: executionKeyOf(item.team, item.id) };
}

/** An item as the stores hand it out: `id` without the team ({@link storedObjectItem}, {@link storedExecutionItem}). */
export function loadedItem<T extends { readonly id: string }>(stored: T): T {
  const key = parseMetadataKey(stored.id);
  return key ? { ...stored, id: key.rest } : stored;
}

/** The four metadata tables, as `sdlf migrate-keys` and the local store name them (the keys of `METADATA_KEYS`). */
export type MetadataTableKind = keyof typeof METADATA_KEYS;

/** What {@link rekeyedLegacyItem} decided for one stored item. */
export type LegacyRekey =
  /** The item is under the team's key already. */
  | { readonly kind: 'current' }
  /** The item as it is stored under the team's key, and that key. */
  | { readonly kind: 'rekeyed'; readonly key: string; readonly item: Record<string, unknown> }
  /** A legacy item that names no team (an object routing dropped outside every `{team}/` prefix): it stays as it is. */
  | { readonly kind: 'teamless'; readonly reason: string };

/**
 * Decides how an item written before the key layout (an `ObjectMetadata` id `s3://…`, an execution id `a-…`, a
 * `team-dataset` name) is stored under the layout: the same item, its partition key (and, for an execution, its
 * dataset index key) under its team. Items under the layout already are `current`, so a rewrite is idempotent.
 */
export function rekeyedLegacyItem(table: MetadataTableKind, stored: Record<string, unknown>): LegacyRekey {
  const text = (name: string) => (typeof stored[name] === 'string' ? (stored[name] as string) : undefined);
  const { partitionKey } = METADATA_KEYS[table];
  const key = text(partitionKey) ?? '';
  if (parseMetadataKey(key) !== undefined && (table !== 'executionHistory' || parseMetadataKey(text('datasetKey') ?? ''))) {
    return { kind: 'current' };
  }
  const team = text('team');
  if (team === undefined) return { kind: 'teamless', reason: `${partitionKey} "${key}" has no team` };
  const rekey = (newKey: string, extra: Record<string, unknown> = {}): LegacyRekey => ({
    kind: 'rekeyed',
    key: newKey,
    item: { ...stored, [partitionKey]: newKey, ...extra },
  });
  switch (table) {
    case 'objectMetadata':
      return rekey(objectKeyOf(team, key));
    case 'datasets':
      return rekey(datasetKeyOf(team, text('dataset') ?? key));
    case 'pipelines': {
      const stage = text('stage') === 'b' ? 'b' : 'a';
      return rekey(pipelineKeyOf(team, text('pipeline') ?? key, stage));
    }
    case 'executionHistory': {
      const id = parseMetadataKey(key)?.rest ?? key;
      return rekey(executionKeyOf(team, id), { datasetKey: datasetKeyOf(team, text('dataset') ?? '') });
    }
  }
}
