import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { MigrateKeysResult } from '../services/migrate-keys.js';

/** `sdlf migrate-keys`: rewrites metadata items written before the team key layout under their team's keys. */
export default class MigrateKeys extends SdlfCommand<typeof MigrateKeys> {
  static override summary = "Rewrite a deployed lake's metadata items under their team's keys ({team}/…).";
  static override description =
    'The team pipelines read and write only metadata keys that start with their team (`{team}/…`); items an ' +
    'earlier sdlf wrote (object ids s3://…, execution ids a-…, dataset names team-dataset) are rewritten under those ' +
    'keys, so no execution, claim or dataset registration is lost or run again. "sdlf deploy --direct" does it ' +
    'around the deploy that brings the layout; run it yourself after a CI/CD deploy, or when that deploy said so ' +
    '(--dry-run first). It counts the items per table, shows a few and asks (--yes answers); an item the runtime ' +
    'wrote under the new key is kept, and no legacy item is deleted before its content is under the new key. ' +
    'Running it again finds nothing to do.';
  static override examples = [
    '<%= config.bin %> migrate-keys --env dev --dry-run',
    '<%= config.bin %> migrate-keys --env dev --yes',
  ];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    'dry-run': sharedFlags['dry-run'],
    yes: sharedFlags.yes,
  };

  public async run(): Promise<MigrateKeysResult> {
    const { migrateKeys, summarizeMoves } = await import('../services/migrate-keys.js');
    const result = await migrateKeys({ ...this.awsTarget, dryRun: this.flags['dry-run'] }, this.io);
    if (!this.jsonEnabled()) {
      if (result.dryRun) this.log(`Dry run: migrate-keys would rewrite in environment "${result.env}":`);
      else if (!result.confirmed) this.log(`Nothing was rewritten in environment "${result.env}".`);
      else this.log(`migrate-keys in environment "${result.env}":`);
      for (const line of summarizeMoves(result)) this.log(line);
    }
    return result;
  }
}
