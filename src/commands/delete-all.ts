import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { DeleteAllResult } from '../services/delete-all.js';

/** `sdlf delete-all`: safely removes what the project deployed in one environment. */
export default class DeleteAll extends SdlfCommand<typeof DeleteAll> {
  static override summary = 'Delete everything the project deployed in an environment, after showing the plan.';
  static override description =
    "Builds a plan from the project's own stack names and sdlf:project / sdlf:environment tags only, prints it and " +
    'asks (--yes answers; without a terminal and without --yes it refuses). Then it empties the buckets (every ' +
    'object version and delete marker), deletes the stacks datasets → pipelines → foundations, deletes the buckets ' +
    'and tables the stacks retained, schedules the deletion of their KMS keys (7 days) and removes the Lake ' +
    'Formation admins bootstrap added. --env cicd deletes the CI/CD pipeline stack. The repository and the bootstrap ' +
    'stack go only with --include-repository / --include-bootstrap. Nothing untagged or of another prefix or ' +
    'environment is touched, nor any local file or .git. Ctrl-C stops after the current step; re-running continues. ' +
    'Each wait for a stack lasts at most --timeout minutes; then it stops, saying which stacks are gone and which remain.';
  static override examples = [
    '<%= config.bin %> delete-all --env dev --dry-run',
    '<%= config.bin %> delete-all --env dev',
    '<%= config.bin %> delete-all --env cicd --include-repository --yes',
  ];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    'dry-run': sharedFlags['dry-run'],
    yes: sharedFlags.yes,
    timeout: sharedFlags.timeout,
    'include-repository': Flags.boolean({
      description: 'Also delete the CodeCommit repository (with --env cicd).',
      env: 'SDLF_INCLUDE_REPOSITORY',
      default: false,
    }),
    'include-bootstrap': Flags.boolean({
      description: 'Also delete the CDK bootstrap stack, when no other stack uses it.',
      env: 'SDLF_INCLUDE_BOOTSTRAP',
      default: false,
    }),
  };

  public async run(): Promise<DeleteAllResult> {
    const { deleteAll } = await import('../services/delete-all.js');
    const controller = new AbortController();
    const onInterrupt = () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort();
      this.io.warn('Stopping after the current step (press Ctrl-C again to quit at once)…');
    };
    process.on('SIGINT', onInterrupt);
    let result: DeleteAllResult;
    try {
      result = await deleteAll(
        {
          ...this.awsTarget,
          dryRun: this.flags['dry-run'],
          includeRepository: this.flags['include-repository'],
          includeBootstrap: this.flags['include-bootstrap'],
          signal: controller.signal,
          timeoutMinutes: this.flags.timeout,
        },
        this.io,
      );
    } finally {
      process.off('SIGINT', onInterrupt);
    }
    if (!this.jsonEnabled()) {
      const where = `environment "${result.env}" (aws://${result.account}/${result.region})`;
      if (result.dryRun) this.log(`Dry run: delete-all would do this in ${where}:`);
      else if (!result.confirmed) this.log(`Nothing was deleted in ${where}.`);
      else this.log(`delete-all in ${where}:`);
      for (const [index, step] of result.steps.entries()) {
        const status = result.dryRun ? '' : `  [${step.status}]`;
        this.log(`  ${String(index + 1).padStart(2)}. ${step.description}${status}`);
      }
      if (result.steps.length === 0) this.log('  nothing to delete');
      for (const line of result.untouched) this.log(`  not touched: ${line}`);
    }
    return result;
  }
}
