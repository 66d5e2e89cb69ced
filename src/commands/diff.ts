import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { DiffProjectResult } from '../services/diff.js';

/** `sdlf diff`: what a deploy would change. */
export default class Diff extends SdlfCommand<typeof Diff> {
  static override summary = 'Show what deploying the environment would change in its stacks.';
  static override description =
    'Builds the embedded app for --env and compares each stack (foundations, team pipelines, datasets) with the ' +
    'deployed template through the CDK toolkit library, like "cdk diff". Changes nothing; needs credentials for the ' +
    "environment's account.";
  static override examples = ['<%= config.bin %> diff --env dev', '<%= config.bin %> diff --env dev --json'];
  static override flags = { env: sharedFlags.env, profile: sharedFlags.profile, region: sharedFlags.region };

  public async run(): Promise<DiffProjectResult> {
    const { diffProject } = await import('../services/diff.js');
    const result = await diffProject(this.awsTarget, this.io);
    if (!this.jsonEnabled()) {
      for (const stack of result.stacks) {
        this.log(`Stack ${stack.name}${stack.changed ? '' : ' (no changes)'}`);
        if (stack.changed) this.log(stack.diff);
      }
      this.log(`${result.changedStacks} of ${result.stacks.length} stack(s) would change.`);
    }
    return result;
  }
}
