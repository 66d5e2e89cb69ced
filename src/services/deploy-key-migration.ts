import type { AwsClients } from '../aws/clients.js';
import type { StackInfo } from '../aws/stacks.js';
import type { Naming } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { METADATA_KEY_LAYOUT } from '../runtime/contract.js';
import { copyLegacyItems, type KeyPass, moveLegacyItems } from './key-migration.js';
import { countItems, metadataDocumentClient, summarizeMoves } from './migrate-keys.js';

/** What a deploy did to move metadata items under their team's keys. */
export interface DeployKeyMigration {
  /** Legacy items copied under their new keys before the stacks were deployed. */
  readonly copied: number;
  /** Legacy items moved after the stacks were deployed (their copies refreshed, the legacy items deleted). */
  readonly moved: number;
}

/** The two passes a deploy runs around its stacks, when a deployed team pipeline still runs the legacy keys. */
export interface KeyMigrationAroundDeploy {
  /** Before the stacks: copies, deletes nothing. */
  before(): Promise<KeyPass>;
  /** After every stack deployed: moves, deletes the legacy items. */
  after(): Promise<KeyPass>;
}

/**
 * The key migration a direct deploy of `envId` needs, from its deployed team pipeline stacks as the deploy's preflight
 * described them: one when any of them lacks the
 * {@link METADATA_KEY_LAYOUT} output (its runtime reads the legacy keys), none for a new environment or one
 * migrated already. The deploy copies before it changes a stack, so the new runtime finds every execution and
 * claim the old one recorded, and moves after, once no old runtime is deployed.
 */
export function keyMigrationAroundDeploy(options: {
  readonly clients: AwsClients;
  readonly naming: Naming;
  readonly envId: string;
  readonly pipelineStacks: readonly StackInfo[];
  readonly io: Io;
}): KeyMigrationAroundDeploy | undefined {
  const { clients, naming, envId, pipelineStacks, io } = options;
  const legacy = pipelineStacks
    .filter((s) => s.outputs[METADATA_KEY_LAYOUT.output] !== METADATA_KEY_LAYOUT.value)
    .map((s) => s.name);
  if (legacy.length === 0) return undefined;
  const doc = metadataDocumentClient(clients.dynamoDb);
  const report = (done: string, pass: KeyPass): KeyPass => {
    io.info(`${done} ${countItems(pass)} item(s):`);
    for (const line of summarizeMoves(pass)) io.info(line);
    return pass;
  };
  return {
    async before() {
      io.info(
        `Metadata keys: ${legacy.join(', ')} run(s) a runtime of the legacy keys; copying the metadata items of ${envId} under their team's keys before the deploy (nothing is deleted yet)…`,
      );
      return report('Copied', await copyLegacyItems(doc, naming));
    },
    async after() {
      io.info(`Metadata keys: moving the items under their team's keys now that every team pipeline runs the new runtime…`);
      try {
        return report('Moved', await moveLegacyItems(doc, naming));
      } catch (error) {
        throw new SdlfError(
          `The stacks of ${envId} are deployed, but moving its metadata items under their team's keys stopped: ${(error as Error).message}`,
          {
            code: 'KEY_MIGRATION_INCOMPLETE',
            suggestions: [
              `Run "sdlf migrate-keys --env ${envId}" to finish it: items moved already stay moved, and every legacy item left has its copy under its new key.`,
            ],
          },
        );
      }
    },
  };
}
