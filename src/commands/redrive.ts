import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { datasetFlags, sharedFlags } from '../cli/flags.js';
import type { RedriveDatasetResult } from '../services/redrive.js';

/** `sdlf redrive`: moves a dataset's dead-lettered messages back to their queue. */
export default class Redrive extends SdlfCommand<typeof Redrive> {
  static override summary = "Move a dataset's dead-letter messages back to their queue after a fix.";
  static override description =
    "Moves every message of the dataset's dead-letter queue of --stage back to its source queue, keeping FIFO " +
    "group and deduplication ids, and reports the count. Stage A's queue is shared by the team's pipeline: only " +
    "this dataset's messages move.";
  static override examples = ['<%= config.bin %> redrive --team demoteam --dataset legislators --stage b'];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    ...datasetFlags('redrive'),
    stage: Flags.option({
      description: 'Stage whose dead-letter queue to redrive.',
      options: ['a', 'b'] as const,
      required: true,
      env: 'SDLF_STAGE',
    })(),
  };

  public async run(): Promise<RedriveDatasetResult> {
    const { redriveDataset } = await import('../services/redrive.js');
    const result = await redriveDataset(
      {
        ...this.awsTarget,
        team: this.flags.team,
        dataset: this.flags.dataset,
        stage: this.flags.stage,
      },
      this.io,
    );
    if (!this.jsonEnabled()) this.log(`Moved ${result.moved} message(s) from ${result.from} to ${result.to}.`);
    return result;
  }
}
