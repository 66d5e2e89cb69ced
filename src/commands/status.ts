import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { datasetFilterFlags, sharedFlags } from '../cli/flags.js';
import type { ShowStatusResult } from '../services/status.js';

/** `sdlf status`: recent executions per dataset and dead-letter queue depths. */
export default class Status extends SdlfCommand<typeof Status> {
  static override summary = 'Show recent pipeline executions per dataset and dead-letter queue depths.';
  static override description =
    'Lists the latest executions of each dataset of --env (newest first: stage, status, attempt, duration, failure ' +
    "cause) from the execution history table, and the number of messages in the dataset's dead-letter queues. " +
    'With --local it shows the runs of "sdlf run --local" instead.';
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --team demoteam --dataset legislators --limit 20',
    '<%= config.bin %> status --local',
  ];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    ...datasetFilterFlags,
    local: Flags.boolean({ description: 'Show the runs of "sdlf run --local".', env: 'SDLF_LOCAL', default: false }),
    limit: Flags.integer({ description: 'Executions per dataset.', env: 'SDLF_LIMIT', default: 10, min: 1 }),
  };

  public async run(): Promise<ShowStatusResult> {
    const { showStatus } = await import('../services/status.js');
    const result = await showStatus(
      {
        ...this.awsTarget,
        team: this.flags.team,
        dataset: this.flags.dataset,
        local: this.flags.local,
        limit: this.flags.limit,
      },
      this.io,
    );
    if (!this.jsonEnabled()) {
      if (result.datasets.length === 0) this.log(`No datasets to show in environment ${result.env}.`);
      for (const d of result.datasets) {
        const dlq =
          'deadLetters' in d && d.deadLetters
            ? `  DLQ: stage A ${d.deadLetters.stageA ?? '-'}, stage B ${d.deadLetters.stageB ?? '-'}`
            : '';
        this.log(`${d.team}/${d.dataset} (${d.pipeline})${dlq}`);
        if (d.executions.length === 0) this.log('  no executions yet');
        for (const e of d.executions) {
          const duration = e.durationMs === undefined ? '' : ` ${(e.durationMs / 1000).toFixed(1)} s`;
          const failure = e.failure ? ` — ${e.failure.error}: ${e.failure.cause.split('\n')[0]}` : '';
          this.log(
            `  ${e.startedAt}  stage ${e.stage.toUpperCase()}  ${e.status.padEnd(10)}${duration}  #${e.attempt}  ${e.source}${failure}`,
          );
        }
      }
    }
    return result;
  }
}
