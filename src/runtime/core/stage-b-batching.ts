/**
 * Stage B batching: reads stage B messages, folds those of one staged object into one item and slices the items
 * into batches within a dataset's limits.
 */
import type { StageBMessage } from '../contract.js';
import { MalformedInputError, parseObject, requireString } from './deps.js';
import type { ReceivedMessage } from './ports.js';

const MESSAGE = 'stage B message';

/** Reads a stage B queue message body; throws {@link MalformedInputError} naming the bad field. */
export function parseStageBMessage(body: string): StageBMessage {
  const value = parseObject(body, MESSAGE);
  return {
    bucket: requireString(value, 'bucket', MESSAGE),
    key: requireString(value, 'key', MESSAGE),
    team: requireString(value, 'team', MESSAGE),
    dataset: requireString(value, 'dataset', MESSAGE),
    sourceExecutionId: requireString(value, 'sourceExecutionId', MESSAGE),
  };
}

/** Batch limits of a dataset. */
export interface BatchLimits {
  /** Fewest staged objects worth a run; fewer wait for the next trigger. */
  readonly minItems: number;
  /** Most staged objects in one run. */
  readonly maxItems: number;
}

/** A staged object received for stage B, with every message that named it. */
export interface StagedItem {
  /** `s3://bucket/key`: the object's `ObjectMetadata` id and its manifest entry. */
  readonly id: string;
  readonly object: { readonly bucket: string; readonly key: string };
  /** Stage A executions that staged it (more than one when a corrected upload re-staged it). */
  readonly sources: ReadonlySet<string>;
  readonly messages: readonly ReceivedMessage[];
}

/** One planned stage B run. */
export interface PlannedBatch {
  /** Distinct staged objects, in arrival order. */
  readonly objects: ReadonlyArray<{ readonly bucket: string; readonly key: string }>;
  /** Distinct stage A executions that staged them, sorted: part of the batch's identity, so a corrected upload
   * (a new stage A execution writing the same staged key) starts a new stage B run. */
  readonly sources: readonly string[];
  /** Every message the batch consumes (duplicates of a key included). */
  readonly receiptHandles: readonly string[];
}

/** How {@link planBatches} splits received messages. */
export interface BatchPlan {
  readonly batches: readonly PlannedBatch[];
  /** Messages left for a later run (fewer than `minItems` remained). */
  readonly held: readonly ReceivedMessage[];
  /** Messages that are not stage B messages of this dataset, with the reason. */
  readonly invalid: ReadonlyArray<{ readonly message: ReceivedMessage; readonly reason: string }>;
}

/**
 * Groups received stage B messages by staged object, in arrival order: messages for the same object are folded
 * into one item; messages that do not parse, or belong to another dataset, are invalid.
 */
export function groupStagedItems(
  messages: readonly ReceivedMessage[],
  dataset?: { readonly team: string; readonly dataset: string },
): Pick<BatchPlan, 'invalid'> & { readonly items: readonly StagedItem[] } {
  const invalid: Array<{ message: ReceivedMessage; reason: string }> = [];
  const groups = new Map<
    string,
    { id: string; object: StagedItem['object']; messages: ReceivedMessage[]; sources: Set<string> }
  >();
  for (const message of messages) {
    let parsed: StageBMessage;
    try {
      parsed = parseStageBMessage(message.body);
    } catch (error) {
      if (!(error instanceof MalformedInputError)) throw error;
      invalid.push({ message, reason: error.message });
      continue;
    }
    if (dataset && (parsed.team !== dataset.team || parsed.dataset !== dataset.dataset)) {
      invalid.push({
        message,
        reason: `the message is for ${parsed.team}/${parsed.dataset}, not ${dataset.team}/${dataset.dataset}`,
      });
      continue;
    }
    const id = `s3://${parsed.bucket}/${parsed.key}`;
    const group = groups.get(id) ?? { id, object: { bucket: parsed.bucket, key: parsed.key }, messages: [], sources: new Set() };
    group.messages.push(message);
    group.sources.add(parsed.sourceExecutionId);
    groups.set(id, group);
  }
  return { items: [...groups.values()], invalid };
}

/**
 * Splits staged items into batches of at most `maxItems` objects. A remainder of fewer than `minItems` objects
 * (or all of them, when there are fewer) is held for a later run. Throws for limits that are not positive
 * integers with `minItems <= maxItems`.
 */
export function sliceBatches(items: readonly StagedItem[], limits: BatchLimits): Pick<BatchPlan, 'batches' | 'held'> {
  const { minItems, maxItems } = limits;
  if (!Number.isInteger(minItems) || !Number.isInteger(maxItems) || minItems < 1 || maxItems < minItems) {
    throw new Error(`Invalid stage B batch limits: min ${minItems}, max ${maxItems} (need 1 <= min <= max).`);
  }
  const batches: PlannedBatch[] = [];
  let at = 0;
  while (items.length - at >= minItems && at < items.length) {
    const slice = items.slice(at, at + maxItems);
    batches.push({
      objects: slice.map((item) => item.object),
      sources: [...new Set(slice.flatMap((item) => [...item.sources]))].sort(),
      receiptHandles: receiptsOf(slice),
    });
    at += slice.length;
  }
  return { batches, held: items.slice(at).flatMap((item) => item.messages) };
}

/**
 * Splits received stage B messages into batches ({@link groupStagedItems}, then {@link sliceBatches}).
 */
export function planBatches(
  messages: readonly ReceivedMessage[],
  limits: BatchLimits,
  dataset?: { readonly team: string; readonly dataset: string },
): BatchPlan {
  const { items, invalid } = groupStagedItems(messages, dataset);
  return { ...sliceBatches(items, limits), invalid };
}

/** The receipt handles of every message of the items. */
export function receiptsOf(items: readonly StagedItem[]): string[] {
  return items.flatMap((item) => item.messages.map((m) => m.receiptHandle));
}
