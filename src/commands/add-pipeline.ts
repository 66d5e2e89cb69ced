import { Args, Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { AddPipelineResult } from '../services/add-pipeline.js';

/** `sdlf add-pipeline NAME`: scaffolds a custom pipeline type. */
export default class AddPipeline extends SdlfCommand<typeof AddPipeline> {
  static override summary = 'Scaffold a custom pipeline type in pipelines/<name>.ts.';
  static override description =
    'Writes a working pipeline type module (S3 event → stage A light transform, composed from the constructs of ' +
    '"sdlf/constructs") that you can extend. Datasets use it with "sdlf add-dataset --pipeline <name>"; "sdlf ' +
    'synth" loads it from pipelines/ and runs cdk-nag on what it builds.';
  static override examples = [
    '<%= config.bin %> add-pipeline fast',
    '<%= config.bin %> add-pipeline streaming --description "Kinesis to stage" --dry-run',
  ];
  static override args = {
    name: Args.string({ description: 'Pipeline type name: lowercase letters, digits and dashes.', required: true }),
  };
  static override flags = {
    description: Flags.string({ description: 'One line describing the pipeline type.', env: 'SDLF_DESCRIPTION' }),
    'dry-run': sharedFlags['dry-run'],
    force: sharedFlags.force,
  };

  public async run(): Promise<AddPipelineResult> {
    const { addPipeline } = await import('../services/add-pipeline.js');
    const { flags, args } = this;
    const result = await addPipeline(
      { root: flags.path, name: args.name, description: flags.description, dryRun: flags['dry-run'], force: flags.force },
      this.io,
    );
    if (!this.jsonEnabled()) {
      this.log(
        result.dryRun
          ? `Dry run: would write ${result.file}; nothing was written.`
          : `Created pipeline type "${result.name}" in ${result.file}.`,
      );
      this.log(`  Use it: sdlf add-dataset --team <team> --dataset <dataset> --pipeline ${result.name}`);
    }
    return result;
  }
}
