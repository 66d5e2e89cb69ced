import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AwsCommandOptions, openSession } from '../aws/session.js';
import { namingOf, requireDeploymentEnvironment } from '../aws/target.js';
import type { Io } from '../core/io.js';
import { type KeyPass, moveLegacyItems, planLegacyItems } from './key-migration.js';

/** Options of {@link migrateKeys}. */
export interface MigrateKeysOptions extends AwsCommandOptions {
  /** Only show what would be rewritten. @default false */
  readonly dryRun?: boolean;
}

/** What {@link migrateKeys} found (a dry run, or a refused question) or did. */
export interface MigrateKeysResult extends KeyPass {
  readonly env: string;
  readonly dryRun: boolean;
  readonly confirmed: boolean;
}

/** A document client over `client` that drops undefined attributes, as the runtime's store does. */
export function metadataDocumentClient(client: unknown): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client as DynamoDBClient, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * `sdlf migrate-keys`: moves the metadata items a deployed lake wrote before the team key layout (`{team}/…`) under
 * their team's keys, so the runtime, which reads only those, finds every execution, claim and dataset it recorded
 * and processes nothing twice. Counts the legacy items of the four tables, shows a few, asks (`--yes` answers),
 * then moves them page by page (see `moveLegacyItems`): an item the runtime wrote under the new key is kept, and
 * no legacy item is deleted unless its content is under the new key. A second run finds nothing to do.
 * (`sdlf deploy --direct` does the same around a deploy that brings the layout.)
 */
export async function migrateKeys(options: MigrateKeysOptions, io: Io): Promise<MigrateKeysResult> {
  const { target, clients } = await openSession(options, io);
  const environment = requireDeploymentEnvironment(target, 'migrate-keys');
  const naming = namingOf(target, environment);
  const doc = metadataDocumentClient(clients.dynamoDb);
  const plan = await planLegacyItems(doc, naming);
  const base = { env: environment.id, dryRun: options.dryRun ?? false };
  const total = countItems(plan);
  if (options.dryRun || total === 0) return { ...base, ...plan, confirmed: true };
  const confirmed = await io.confirm(
    `Move ${total} metadata item(s) of ${environment.id} under their team's keys (each legacy item is deleted once its content is there)?`,
  );
  if (!confirmed) return { ...base, ...plan, confirmed: false };
  return { ...base, ...(await moveLegacyItems(doc, naming)), confirmed: true };
}

/** Legacy items of a pass, over its tables. */
export function countItems(pass: KeyPass): number {
  return pass.tables.reduce((sum, t) => sum + t.items, 0);
}

/**
 * The lines `sdlf migrate-keys` (and `sdlf deploy`) print of a pass: per table the number of items and the first few
 * moves (a lake's tables can hold millions of items), then the items kept because they name no team.
 */
export function summarizeMoves(pass: KeyPass): string[] {
  const lines: string[] = [];
  for (const { table, items, keptNewer, examples } of pass.tables) {
    lines.push(
      `  ${table}: ${items} item(s)${keptNewer ? `, ${keptNewer} of them already under the new key (the newer item is kept)` : ''}`,
    );
    for (const move of examples) lines.push(`    ${move.from} → ${move.to}`);
    if (items > examples.length) lines.push(`    … and ${items - examples.length} more`);
  }
  if (pass.tables.length === 0) lines.push('  nothing to rewrite');
  const { count, examples } = pass.teamless;
  for (const { table, key } of examples) lines.push(`  kept (names no team): ${table}: ${key}`);
  if (count > examples.length) lines.push(`  … and ${count - examples.length} more that name no team`);
  return lines;
}
