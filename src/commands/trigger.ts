import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { datasetFlags, sharedFlags } from '../cli/flags.js';
import type { TriggerDatasetResult } from '../services/trigger.js';

/** `sdlf trigger`: starts a deployed dataset's stage B now. */
export default class Trigger extends SdlfCommand<typeof Trigger> {
  static override summary =
    "Start a deployed dataset's stage B now, without waiting for its batching window or min_items_process.";
  static override description =
    "Invokes the team pipeline's deployed stage B trigger for this dataset: everything it has staged starts at " +
    'once, in batches of at most its max_items_process objects, even below its min_items_process. Prints each ' +
    'execution it started (its id is the one "sdlf status" shows) with its Step Functions status; --wait waits ' +
    'until they finish, at most --timeout minutes, and exits 2 when one did not succeed.';
  static override examples = [
    '<%= config.bin %> trigger --team demoteam --dataset legislators',
    '<%= config.bin %> trigger --team demoteam --dataset legislators --env dev --wait --timeout 20',
  ];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    ...datasetFlags('start'),
    wait: Flags.boolean({
      description: 'Wait until the started executions finish (at most --timeout minutes).',
      env: 'SDLF_WAIT',
      default: false,
    }),
    timeout: sharedFlags.timeout,
  };

  public async run(): Promise<TriggerDatasetResult> {
    const { triggerDataset } = await import('../services/trigger.js');
    const result = await triggerDataset(
      {
        ...this.awsTarget,
        team: this.flags.team,
        dataset: this.flags.dataset,
        wait: this.flags.wait,
        timeoutMinutes: this.flags.timeout,
      },
      this.io,
    );
    if (!this.jsonEnabled()) {
      const started = result.executions.filter((e) => e.started).length;
      this.log(
        result.executions.length === 0
          ? `Started no stage B execution of ${result.team}/${result.dataset}.`
          : `Started ${started} stage B execution(s) of ${result.team}/${result.dataset} on ${result.stateMachine}: ${result.executions
              .map((e) => `${e.executionId} ${e.status}`)
              .join(', ')}.`,
      );
    }
    return result;
  }
}
