/**
 * Moving a deployed lake's metadata items from the keys an earlier sdlf wrote (object ids `s3://…`, execution ids
 * `a-…`, dataset names `team-dataset`) to the team key layout (`{team}/…`), item by item and page by page, so a
 * table of millions of items needs the memory of one page.
 *
 * Two passes make the move safe while a runtime of either layout may run:
 * - {@link copyLegacyItems} (before the new runtime is deployed) writes each legacy item's copy under its new key,
 *   marked as a copy ({@link COPY_MARKERS}), and deletes nothing: the runtime still deployed reads the legacy items,
 *   the one about to be deployed finds the copies.
 * - {@link moveLegacyItems} (after) refreshes each copy the runtime has not touched since with the legacy item as it is
 *   now, deletes the legacy item only if it is unchanged since it was read, then unmarks the copy. An item the new
 *   runtime wrote under the new key is newer and kept. A legacy item that changed in between is read and moved again.
 *
 * Every write is conditional on the item read just before, so no concurrent write of a runtime is overwritten.
 */
import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Naming, TableKind } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import { isAwsError } from '../runtime/aws/clients.js';
import { METADATA_KEYS } from '../runtime/contract.js';
import { type MetadataTableKind, rekeyedLegacyItem } from '../runtime/core/metadata-items.js';

/** The four metadata tables, by the naming module's kind and the runtime's name. */
export const MIGRATED_TABLES: ReadonlyArray<{ readonly kind: TableKind; readonly table: MetadataTableKind }> = [
  { kind: 'object-metadata', table: 'objectMetadata' },
  { kind: 'datasets', table: 'datasets' },
  { kind: 'pipelines', table: 'pipelines' },
  { kind: 'execution-history', table: 'executionHistory' },
];

/**
 * Attributes a copy carries until {@link moveLegacyItems} unmarks it: the legacy key it came from, and the hash of
 * its other attributes as written. A marked item whose attributes still hash to its mark is a copy no runtime has
 * written since.
 */
export const COPY_MARKERS = { from: 'sdlfCopiedFrom', hash: 'sdlfCopyHash' } as const;

/**
 * Optional attributes a runtime adds to an item without changing the others (a stage B claim adds only `batchId`).
 * "Unchanged since read" also requires that those absent then are absent still.
 */
const ADDED_ALONE: Readonly<Record<MetadataTableKind, readonly string[]>> = {
  objectMetadata: ['batchId'],
  datasets: ['lastStageA', 'lastStageB'],
  pipelines: ['lastExecution'],
  executionHistory: ['endedAt', 'durationMs', 'keys', 'outputs', 'failure'],
};

/** How many items are moved at once (each move is 3–4 requests). */
const CONCURRENCY = 16;
/** How often one item is read again when it changed between the read and the write. */
const ATTEMPTS = 5;

/** One legacy item and the key it is stored under in the team layout. */
export interface LegacyItem {
  /** The table's physical name. */
  readonly table: string;
  readonly kind: MetadataTableKind;
  /** The partition key attribute (`id` or `name`). */
  readonly keyAttribute: string;
  readonly from: string;
  readonly to: string;
}

/** What one pass did to one table's legacy items. */
export interface TablePass {
  readonly table: string;
  /** Legacy items found (for a plan) or handled (for a copy or a move). */
  readonly items: number;
  /** Items the runtime had written under the new key already: kept, the legacy one deleted (a move) or left (a copy). */
  readonly keptNewer: number;
  /** The first legacy items, as examples (a table can hold millions). */
  readonly examples: ReadonlyArray<{ readonly from: string; readonly to: string }>;
}

/** What one pass over the four tables found or did. */
export interface KeyPass {
  readonly tables: readonly TablePass[];
  /** Legacy items that name no team (objects routing dropped outside every `{team}/` prefix): left as they are. */
  readonly teamless: {
    readonly count: number;
    readonly examples: ReadonlyArray<{ readonly table: string; readonly key: string }>;
  };
}

/** How many examples a pass keeps per table. */
export const EXAMPLES_PER_TABLE = 3;

/** Counts the legacy items of the four tables, without writing anything. */
export function planLegacyItems(doc: DynamoDBDocumentClient, naming: Naming): Promise<KeyPass> {
  return pass(doc, naming, async () => 'moved');
}

/** The pass before a deploy: a marked copy of every legacy item under its new key; deletes nothing. */
export function copyLegacyItems(doc: DynamoDBDocumentClient, naming: Naming): Promise<KeyPass> {
  return pass(doc, naming, (item, stored) => withRetries(doc, item, stored, (current) => writeCopy(doc, item, current)));
}

/** The pass after a deploy: every legacy item moved under its new key (see the module's comment) and deleted. */
export function moveLegacyItems(doc: DynamoDBDocumentClient, naming: Naming): Promise<KeyPass> {
  return pass(doc, naming, (item, stored) => withRetries(doc, item, stored, (current) => moveItem(doc, item, current)));
}

type Outcome = 'moved' | 'kept-newer';
type Handler = (item: LegacyItem, stored: Record<string, unknown>) => Promise<Outcome>;

/** Scans each table page by page and hands every legacy item to `handle`, {@link CONCURRENCY} at a time. */
async function pass(doc: DynamoDBDocumentClient, naming: Naming, handle: Handler): Promise<KeyPass> {
  const tables: TablePass[] = [];
  const teamless = { count: 0, examples: [] as Array<{ table: string; key: string }> };
  for (const { kind, table: tableKind } of MIGRATED_TABLES) {
    const table = naming.table(kind);
    const keyAttribute = METADATA_KEYS[tableKind].partitionKey;
    const counts = { items: 0, keptNewer: 0 };
    const examples: Array<{ from: string; to: string }> = [];
    for await (const page of paginateScan({ client: doc }, { TableName: table, ConsistentRead: true })) {
      const work: Array<() => Promise<void>> = [];
      for (const stored of page.Items ?? []) {
        const from = String(stored[keyAttribute]);
        const rekey = rekeyedLegacyItem(tableKind, stored);
        if (rekey.kind === 'teamless') {
          teamless.count += 1;
          if (teamless.examples.length < EXAMPLES_PER_TABLE) teamless.examples.push({ table, key: from });
        }
        if (rekey.kind !== 'rekeyed') continue;
        counts.items += 1;
        if (examples.length < EXAMPLES_PER_TABLE) examples.push({ from, to: rekey.key });
        const item: LegacyItem = { table, kind: tableKind, keyAttribute, from, to: rekey.key };
        work.push(async () => {
          if ((await handle(item, stored)) === 'kept-newer') counts.keptNewer += 1;
        });
      }
      await inBatches(work, CONCURRENCY);
    }
    if (counts.items > 0) tables.push({ table, ...counts, examples });
  }
  return { tables, teamless };
}

async function inBatches(work: ReadonlyArray<() => Promise<void>>, size: number): Promise<void> {
  for (let i = 0; i < work.length; i += size) await Promise.all(work.slice(i, i + size).map((run) => run()));
}

/** A write lost its condition: the item changed since it was read. */
class ChangedMeanwhile extends Error {}

/**
 * Runs `attempt` with the legacy item as stored, reading it again after each {@link ChangedMeanwhile} (a runtime
 * wrote it meanwhile); a legacy item deleted meanwhile is done.
 */
async function withRetries(
  doc: DynamoDBDocumentClient,
  item: LegacyItem,
  stored: Record<string, unknown>,
  attempt: (current: Record<string, unknown>) => Promise<Outcome>,
): Promise<Outcome> {
  let current: Record<string, unknown> | undefined = stored;
  for (let i = 0; i < ATTEMPTS && current; i += 1) {
    try {
      return await attempt(current);
    } catch (error) {
      if (!(error instanceof ChangedMeanwhile)) throw error;
      current = await getItem(doc, item.table, item.keyAttribute, item.from);
    }
  }
  if (!current) return 'moved';
  throw new SdlfError(
    `The metadata item ${item.from} of ${item.table} changed ${ATTEMPTS} times while it was moved to ${item.to}: a runtime is still writing it.`,
    {
      code: 'KEY_MIGRATION_BUSY',
      suggestions: [
        'Run "sdlf migrate-keys --env <env>" again when the executions in flight have ended ("sdlf status" lists them); items moved already stay moved.',
      ],
    },
  );
}

/** Writes the marked copy of `legacy` under its new key, unless the runtime has written that key itself. */
async function writeCopy(doc: DynamoDBDocumentClient, item: LegacyItem, legacy: Record<string, unknown>): Promise<Outcome> {
  const existing = await getItem(doc, item.table, item.keyAttribute, item.to);
  if (existing && !isUntouchedCopy(existing)) return 'kept-newer';
  const rekey = rekeyedLegacyItem(item.kind, legacy);
  if (rekey.kind !== 'rekeyed') return 'moved';
  await conditional(() =>
    doc.send(
      new PutCommand({
        TableName: item.table,
        Item: markedCopy(rekey.item, item.from),
        ...unchangedSince(item, existing),
      }),
    ),
  );
  return 'moved';
}

/** Refreshes the copy, deletes the legacy item if unchanged since read, and unmarks the copy. */
async function moveItem(doc: DynamoDBDocumentClient, item: LegacyItem, legacy: Record<string, unknown>): Promise<Outcome> {
  const outcome = await writeCopy(doc, item, legacy);
  await conditional(() =>
    doc.send(
      new DeleteCommand({ TableName: item.table, Key: { [item.keyAttribute]: item.from }, ...unchangedSince(item, legacy) }),
    ),
  );
  if (outcome === 'moved') await unmark(doc, item);
  return outcome;
}

/** Removes the copy markers, unless a runtime wrote the item after the copy (then they no longer match its hash). */
async function unmark(doc: DynamoDBDocumentClient, item: LegacyItem): Promise<void> {
  const copy = await getItem(doc, item.table, item.keyAttribute, item.to);
  if (!copy || copy[COPY_MARKERS.hash] === undefined) return;
  try {
    await doc.send(
      new UpdateCommand({
        TableName: item.table,
        Key: { [item.keyAttribute]: item.to },
        UpdateExpression: 'REMOVE #from, #hash',
        ...unchangedSince(item, copy, { '#from': COPY_MARKERS.from, '#hash': COPY_MARKERS.hash }),
      }),
    );
  } catch (error) {
    // A runtime wrote the item in between: it is the runtime's now, and the stale marks cannot match its hash.
    if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
  }
}

/** `item` with the marks of a copy of `from`. */
export function markedCopy(item: Record<string, unknown>, from: string): Record<string, unknown> {
  const plain = withoutMarkers(item);
  return { ...plain, [COPY_MARKERS.from]: from, [COPY_MARKERS.hash]: contentHash(plain) };
}

/** Whether `item` is a copy no runtime has written since: its attributes hash to its mark. */
export function isUntouchedCopy(item: Record<string, unknown>): boolean {
  const mark = item[COPY_MARKERS.hash];
  return typeof mark === 'string' && mark === contentHash(withoutMarkers(item));
}

function withoutMarkers(item: Record<string, unknown>): Record<string, unknown> {
  const { [COPY_MARKERS.from]: _from, [COPY_MARKERS.hash]: _hash, ...plain } = item;
  return plain;
}

/** SHA-256 of the item's attributes in a canonical order (map keys sorted, sets sorted). */
export function contentHash(item: Record<string, unknown>): string {
  return createHash('sha256').update(canonical(item)).digest('hex');
}

function canonical(value: unknown): string {
  if (value instanceof Set) return `set${canonical([...value].map((v) => canonical(v)).sort())}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Uint8Array) return `bin:${Buffer.from(value).toString('base64')}`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * The condition under which an item is as it was read: every attribute it had has the value it had, and the
 * attributes a runtime adds alone ({@link ADDED_ALONE}) that it lacked are still absent. `undefined` as read: the
 * item must not exist.
 */
export function unchangedSince(
  item: Pick<LegacyItem, 'kind' | 'keyAttribute'>,
  read: Record<string, unknown> | undefined,
  names: Record<string, string> = {},
): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  if (!read) {
    return {
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { ...names, '#key': item.keyAttribute },
    };
  }
  const attributeNames: Record<string, string> = { ...names };
  const values: Record<string, unknown> = {};
  const terms: string[] = [];
  Object.entries(read).forEach(([name, value], i) => {
    attributeNames[`#a${i}`] = name;
    values[`:v${i}`] = value;
    terms.push(`#a${i} = :v${i}`);
  });
  ADDED_ALONE[item.kind]
    .filter((name) => !(name in read))
    .forEach((name, i) => {
      attributeNames[`#n${i}`] = name;
      terms.push(`attribute_not_exists(#n${i})`);
    });
  return {
    ConditionExpression: terms.join(' AND '),
    ExpressionAttributeNames: attributeNames,
    ExpressionAttributeValues: values,
  };
}

async function conditional(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (isAwsError(error, 'ConditionalCheckFailedException')) throw new ChangedMeanwhile();
    throw error;
  }
}

async function getItem(
  doc: DynamoDBDocumentClient,
  table: string,
  keyAttribute: string,
  key: string,
): Promise<Record<string, unknown> | undefined> {
  const reply = await doc.send(new GetCommand({ TableName: table, Key: { [keyAttribute]: key }, ConsistentRead: true }));
  return reply.Item;
}
