import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { RemoveDatasetResult, RemoveFilesChoice } from '../services/remove-dataset.js';

/** `sdlf remove-dataset`: the inverse of `sdlf add-dataset`. */
export default class RemoveDataset extends SdlfCommand<typeof RemoveDataset> {
  static override summary = 'Unregister a dataset from parameters.json and, when asked, delete the files only it used.';
  static override description =
    'Removes the dataset from parameters.json (from every environment it is registered in, or those given with ' +
    "--env), keeping the file's formatting. Lists the files nothing else uses any more: its light and heavy " +
    'transforms when no other dataset names them, data/<team>/<dataset>/ and its local run outputs. It deletes ' +
    'them with --remove-files (or --yes, or when you say so at the prompt); otherwise it keeps them and prints the ' +
    '"rm -r" that deletes them. Nothing on AWS changes here: the next "sdlf deploy --prune" deletes the ' +
    "dataset's stack (after asking), and its data stays in the lake's buckets; it prints the commands for both.";
  static override examples = [
    '<%= config.bin %> remove-dataset --team demoteam --dataset orders',
    '<%= config.bin %> remove-dataset --team demoteam --dataset orders --env prod --keep-files',
    '<%= config.bin %> remove-dataset --team demoteam --dataset orders --remove-files --dry-run',
  ];
  static override flags = {
    team: Flags.string({ description: 'Team that owns the dataset.', env: 'SDLF_TEAM', required: true }),
    dataset: Flags.string({ description: 'Dataset to remove.', env: 'SDLF_DATASET', required: true }),
    env: Flags.string({
      description: 'Environment to unregister the dataset from; repeat or separate with commas (default: every one it is in).',
      env: 'SDLF_ENV',
      multiple: true,
      delimiter: ',',
    }),
    'remove-files': Flags.boolean({
      description: 'Delete the files that only this dataset used, without asking.',
      env: 'SDLF_REMOVE_FILES',
      exclusive: ['keep-files'],
      default: false,
    }),
    'keep-files': Flags.boolean({
      description: 'Keep every file; only unregister the dataset.',
      env: 'SDLF_KEEP_FILES',
      exclusive: ['remove-files'],
      default: false,
    }),
    yes: sharedFlags.yes,
    'dry-run': sharedFlags['dry-run'],
  };

  public async run(): Promise<RemoveDatasetResult> {
    const { formatRemoveDatasetSummary, removeDataset } = await import('../services/remove-dataset.js');
    const { flags } = this;
    const files: RemoveFilesChoice = flags['keep-files']
      ? 'keep'
      : flags['remove-files'] || flags.yes
        ? 'remove'
        : this.interactive
          ? 'ask'
          : 'keep';
    const result = await removeDataset(
      {
        root: flags.path,
        team: flags.team,
        dataset: flags.dataset,
        envs: flags.env,
        files,
        dryRun: flags['dry-run'],
      },
      this.io,
    );
    if (!this.jsonEnabled()) for (const line of formatRemoveDatasetSummary(result)) this.log(line);
    return result;
  }
}
