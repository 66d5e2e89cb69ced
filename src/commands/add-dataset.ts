import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { AddDatasetResult } from '../services/add-dataset.js';

/** `sdlf add-dataset`: registers a dataset and scaffolds its transforms. */
export default class AddDataset extends SdlfCommand<typeof AddDataset> {
  static override summary = 'Register a dataset in parameters.json and scaffold its transforms.';
  static override description =
    'Adds the dataset to parameters.json (in every environment listed there, or those given with --env), in the ' +
    'form the file already uses and keeping its formatting. Scaffolds the light transform ' +
    'transforms/light/<stage-a-transform>.ts and the heavy transform transforms/heavy/<stage-b-transform>/ (Glue ' +
    'script + SQL) unless transforms of those names exist: transforms are shared by name. Creates ' +
    'data/<team>/<dataset>/ for sample input. Checks everything before writing anything. Run again for a dataset ' +
    'registered already, it scaffolds the transforms it lacks.';
  static override examples = [
    '<%= config.bin %> add-dataset --team demoteam --dataset orders',
    '<%= config.bin %> add-dataset --team sales --dataset orders --pipeline custom --stage-a-transform orders_light',
    '<%= config.bin %> add-dataset --team sales --dataset orders --env dev --env prod --dry-run',
  ];
  static override flags = {
    team: Flags.string({ description: 'Team that owns the dataset.', env: 'SDLF_TEAM', required: true }),
    dataset: Flags.string({ description: 'Name of the dataset.', env: 'SDLF_DATASET', required: true }),
    pipeline: Flags.string({
      description: 'Pipeline type: standard, custom, or a pipelines/<type>.ts of the project.',
      env: 'SDLF_PIPELINE',
      default: 'standard',
    }),
    'stage-a-transform': Flags.string({
      description: 'Light transform (transforms/light/<name>.ts), shared by name. (default: sdlf_light_transform)',
      env: 'SDLF_STAGE_A_TRANSFORM',
    }),
    'stage-b-transform': Flags.string({
      description: 'Heavy transform (transforms/heavy/<name>/), shared by name. (default: <team>_<dataset>)',
      env: 'SDLF_STAGE_B_TRANSFORM',
    }),
    env: Flags.string({
      description:
        'Environment to register the dataset in; repeat or separate with commas (default: every one in parameters.json).',
      env: 'SDLF_ENV',
      multiple: true,
      delimiter: ',',
    }),
    'dry-run': sharedFlags['dry-run'],
    force: sharedFlags.force,
    'glue-script': Flags.boolean({
      description:
        "Copy the Glue job's script into transforms/heavy/<name>/main.py to write your own PySpark (default: the job runs the script that ships with sdlf, which upgrades with it).",
      env: 'SDLF_GLUE_SCRIPT',
      default: false,
    }),
  };

  public async run(): Promise<AddDatasetResult> {
    const { addDataset } = await import('../services/add-dataset.js');
    const { flags } = this;
    const result = await addDataset(
      {
        root: flags.path,
        team: flags.team,
        dataset: flags.dataset,
        pipeline: flags.pipeline,
        stageATransform: flags['stage-a-transform'],
        stageBTransform: flags['stage-b-transform'],
        envs: flags.env,
        dryRun: flags['dry-run'],
        force: flags.force,
        glueScript: flags['glue-script'],
      },
      this.io,
    );
    if (!this.jsonEnabled()) {
      const name = `${result.team}/${result.dataset}`;
      const where = `${result.environments.join(', ')} of ${result.parametersFile}`;
      if (result.environments.length > 0) {
        this.log(
          result.dryRun
            ? `Dry run: would register dataset ${name} (pipeline ${result.pipeline}) in ${where}; nothing was written.`
            : `Registered dataset ${name} (pipeline ${result.pipeline}) in ${where}.`,
        );
      }
      if (result.alreadyRegistered.length > 0) {
        const created = result.files.filter((f) => f.action !== 'identical').length;
        this.log(
          `Dataset ${name} was registered in ${result.alreadyRegistered.join(', ')} already; ${created} missing file(s) ${result.dryRun ? 'would be' : 'were'} scaffolded.`,
        );
      }
      this.log(`  light transform: transforms/light/${result.stageATransform}.ts`);
      this.log(`  heavy transform: transforms/heavy/${result.stageBTransform}/`);
      this.log(`  sample input:    data/${result.team}/${result.dataset}/`);
    }
    return result;
  }
}
