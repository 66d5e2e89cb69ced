import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { SynthProjectResult } from '../services/synth.js';

/** `sdlf synth`: builds the embedded CDK app and writes the cloud assembly. */
export default class Synth extends SdlfCommand<typeof Synth> {
  static override summary = 'Build the data lake CDK app, run cdk-nag and write cdk.out.';
  static override description =
    'Builds the stacks of the project from ddk.json and parameters.json: per environment the foundations, one stack ' +
    'per team and pipeline type, one per dataset (inside the CI/CD pipeline stack when cicd_enabled is true). ' +
    'Bundles the light transforms, loads the custom pipeline types of pipelines/, runs cdk-nag (AwsSolutions) ' +
    '(and with --validation the CloudFormation template validation), and prints each stack with its resource ' +
    'count. Offline: no AWS call.';
  static override examples = [
    '<%= config.bin %> synth',
    '<%= config.bin %> synth --env dev --output build/cdk.out',
    '<%= config.bin %> synth --json',
  ];
  static override flags = {
    env: sharedFlags.env,
    output: Flags.string({
      char: 'o',
      description: 'Folder of the cloud assembly, relative to the project.',
      env: 'SDLF_OUTPUT',
      default: 'cdk.out',
    }),
    validation: Flags.boolean({
      description:
        "Also run aws-cdk-lib's CloudFormation template validation (slow: seconds per synth, more with many stacks; " +
        'cdk-nag always runs, and the built-in constructs are validated by the sdlf test suite).',
      env: 'SDLF_VALIDATION',
      default: false,
      allowNo: true,
    }),
  };

  public async run(): Promise<SynthProjectResult> {
    const { synthProject } = await import('../services/synth.js');
    const { flags } = this;
    const result = await synthProject(
      { root: flags.path, env: flags.env, output: flags.output, validation: flags.validation },
      this.io,
    );
    if (!this.jsonEnabled()) {
      const rows = result.stacks.map((s) => [s.stackName, s.environment, s.kind, String(s.resources)]);
      const header = ['STACK', 'ENV', 'KIND', 'RESOURCES'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
      const line = (cells: string[]) =>
        cells.map((cell, i) => (i === cells.length - 1 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ');
      this.log(line(header));
      for (const row of rows) this.log(line(row));
      const total = result.stacks.reduce((sum, s) => sum + s.resources, 0);
      this.log(
        `${result.stacks.length} stack(s), ${total} resource(s) in ${result.outdir} (${(result.durationMs / 1000).toFixed(1)} s)`,
      );
    }
    return result;
  }
}
