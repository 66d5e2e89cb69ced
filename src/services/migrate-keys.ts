import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { type AwsCommandOptions, openSession } from '../aws/session.js';
import { namingOf, requireDeploymentEnvironment } from '../aws/target.js';
import type { Naming, TableKind } from '../config/naming.js';
import type { Io } from '../core/io.js';
import { isAwsError } from '../runtime/aws/clients.js';
import { METADATA_KEYS } from '../runtime/contract.js';
import { type MetadataTableKind, rekeyedLegacyItem } from '../runtime/core/metadata-items.js';

/** Options of {@link migrateKeys}. */
export interface MigrateKeysOptions extends AwsCommandOptions {
  /** Only show what would be rewritten. @default false */
  readonly dryRun?: boolean;
}

/** One legacy item and the key it moves to. */
export interface KeyMove {
  readonly table: string;
  readonly from: string;
  readonly to: string;
  /** After a run: `moved` (written under the new key, legacy item deleted) or `kept-newer` (an item under the new key existed: it is kept, the legacy one deleted). */
  readonly status?: 'moved' | 'kept-newer';
}

/** What {@link migrateKeys} found and did. */
export interface MigrateKeysResult {
  readonly env: string;
  readonly dryRun: boolean;
  readonly confirmed: boolean;
  readonly moves: readonly KeyMove[];
  /** Legacy items that name no team (objects routing dropped outside every `{team}/` prefix): left as they are. */
  readonly teamless: readonly { readonly table: string; readonly key: string }[];
}

const TABLES: ReadonlyArray<{ readonly kind: TableKind; readonly table: MetadataTableKind }> = [
  { kind: 'object-metadata', table: 'objectMetadata' },
  { kind: 'datasets', table: 'datasets' },
  { kind: 'pipelines', table: 'pipelines' },
  { kind: 'execution-history', table: 'executionHistory' },
];

interface PlannedMove extends KeyMove {
  readonly key: string;
  readonly item: Record<string, unknown>;
}

/**
 * `sdlf migrate-keys`: rewrites the metadata items a deployed lake wrote before the team key layout (`{team}/…`)
 * under their team's keys, so the runtime, which reads only those, finds every execution, claim and dataset it
 * recorded and processes nothing twice. Scans the four tables, shows each move, asks (`--yes` answers), then for
 * each item writes it under the new key unless an item is there already (the runtime's newer one wins) and deletes
 * the legacy item. A second run finds nothing to do.
 */
export async function migrateKeys(options: MigrateKeysOptions, io: Io): Promise<MigrateKeysResult> {
  const { target, clients } = await openSession(options, io);
  const environment = requireDeploymentEnvironment(target, 'migrate-keys');
  const naming = namingOf(target, environment);
  const doc = DynamoDBDocumentClient.from(clients.dynamoDb as DynamoDBClient, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const { planned, teamless } = await planMoves(doc, naming);
  const base = { env: environment.id, teamless };
  const moves = planned.map(({ table, from, to }) => ({ table, from, to }));
  if (options.dryRun || planned.length === 0) return { ...base, dryRun: options.dryRun ?? false, confirmed: true, moves };
  const confirmed = await io.confirm(
    `Rewrite ${planned.length} metadata item(s) of ${environment.id} under their team's keys (and delete the legacy items)?`,
  );
  if (!confirmed) return { ...base, dryRun: false, confirmed: false, moves };
  const done: KeyMove[] = [];
  for (const move of planned) done.push({ table: move.table, from: move.from, to: move.to, status: await applyMove(doc, move) });
  return { ...base, dryRun: false, confirmed: true, moves: done };
}

/** How many moves per table {@link summarizeMoves} shows; `--json` lists them all. */
export const MOVES_SHOWN_PER_TABLE = 3;

/**
 * The lines `sdlf migrate-keys` prints: per table the number of items and the first few moves (a lake's tables can
 * hold millions of items), then the items kept because they name no team.
 */
export function summarizeMoves(result: MigrateKeysResult): string[] {
  const byTable = new Map<string, KeyMove[]>();
  for (const move of result.moves) byTable.set(move.table, [...(byTable.get(move.table) ?? []), move]);
  const lines: string[] = [];
  for (const [table, moves] of byTable) {
    const kept = moves.filter((m) => m.status === 'kept-newer').length;
    lines.push(
      `  ${table}: ${moves.length} item(s)${kept ? `, ${kept} of them already under the new key (the newer item is kept)` : ''}`,
    );
    for (const move of moves.slice(0, MOVES_SHOWN_PER_TABLE)) lines.push(`    ${move.from} → ${move.to}`);
    if (moves.length > MOVES_SHOWN_PER_TABLE)
      lines.push(`    … and ${moves.length - MOVES_SHOWN_PER_TABLE} more (--json lists every move)`);
  }
  if (result.moves.length === 0) lines.push('  nothing to rewrite');
  for (const { table, key } of result.teamless) lines.push(`  kept (names no team): ${table}: ${key}`);
  return lines;
}

async function planMoves(
  doc: DynamoDBDocumentClient,
  naming: Naming,
): Promise<{ planned: PlannedMove[]; teamless: Array<{ table: string; key: string }> }> {
  const planned: PlannedMove[] = [];
  const teamless: Array<{ table: string; key: string }> = [];
  for (const { kind, table } of TABLES) {
    const key = METADATA_KEYS[table].partitionKey;
    const name = naming.table(kind);
    for await (const page of paginateScan({ client: doc }, { TableName: name, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        const from = String(item[key]);
        const rekey = rekeyedLegacyItem(table, item);
        if (rekey.kind === 'teamless') teamless.push({ table: name, key: from });
        if (rekey.kind === 'rekeyed') planned.push({ table: name, from, to: rekey.key, key, item: rekey.item });
      }
    }
  }
  return { planned, teamless };
}

/** Writes one item under its new key (unless one is there) and deletes the legacy one; safe to repeat. */
async function applyMove(doc: DynamoDBDocumentClient, move: PlannedMove): Promise<'moved' | 'kept-newer'> {
  let status: 'moved' | 'kept-newer' = 'moved';
  try {
    await doc.send(
      new PutCommand({
        TableName: move.table,
        Item: move.item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': move.key },
      }),
    );
  } catch (error) {
    if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    status = 'kept-newer';
  }
  await doc.send(new DeleteCommand({ TableName: move.table, Key: { [move.key]: move.from } }));
  return status;
}
