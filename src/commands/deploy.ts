import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import { REQUIRE_APPROVAL } from '../services/command-options.js';
import type { DeployProjectResult } from '../services/deploy.js';

/** `sdlf deploy`: the CI/CD pipeline, or an environment's stacks directly. */
export default class Deploy extends SdlfCommand<typeof Deploy> {
  static override summary = 'Deploy the CI/CD pipeline, or an environment directly.';
  static override description =
    'With CI/CD on (ddk.json cicd_enabled), deploys the {prefix}-cicd-pipeline stack to the cicd account; pushes to ' +
    'the repository then deploy the environments. With --direct (or CI/CD off) it deploys the stacks of --env ' +
    '(foundations, team pipelines, datasets) in dependency order, with progress per stack on stderr.\n\n' +
    'A preflight runs before any change: the credentials reach the configured account, the account and region are ' +
    'bootstrapped ("sdlf bootstrap"), Lake Formation lists the CDK execution role as an admin, and no stack is stuck ' +
    '(a busy one is waited for, at most --timeout minutes; an empty one left REVIEW_IN_PROGRESS by a change set never ' +
    'executed is deleted and created again); with CI/CD on it warns when the CodeCommit repository does not exist yet ("sdlf create-repository"). ' +
    'A stack that fails is reported with the state CloudFormation left it in, the failed resources and ' +
    'their reasons, and the command to re-run after the fix (exit code 2); a stack left in ROLLBACK_COMPLETE is ' +
    'deleted and created again by that re-run. --require-approval works as in cdk (default broadening: asks before IAM/security widening changes); ' +
    'without a terminal a needed approval fails instead of prompting: pass --require-approval never in CI.';
  static override examples = [
    '<%= config.bin %> deploy',
    '<%= config.bin %> deploy --env dev --direct',
    '<%= config.bin %> deploy --env dev --direct --require-approval never --profile dev-admin',
  ];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    timeout: sharedFlags.timeout,
    adopt: Flags.boolean({
      description:
        "Tag the project's existing stacks that carry no sdlf:project-id with this project's id (writing a new project_id to ddk.json when it has none); never takes another project's stacks.",
      env: 'SDLF_ADOPT',
      default: false,
    }),
    direct: Flags.boolean({
      description: 'Deploy the environment from here even when CI/CD is on.',
      env: 'SDLF_DIRECT',
      default: false,
    }),
    prune: Flags.boolean({
      description:
        "Delete (after asking) the environment's stacks of datasets and pipelines no longer in parameters.json; their data in the lake's buckets stays.",
      env: 'SDLF_PRUNE',
      default: false,
    }),
    yes: sharedFlags.yes,
    'require-approval': Flags.option({
      description: 'When to ask before deploying changes.',
      options: REQUIRE_APPROVAL,
      env: 'SDLF_REQUIRE_APPROVAL',
      default: 'broadening' as const,
    })(),
  };

  public async run(): Promise<DeployProjectResult> {
    const { deployProject } = await import('../services/deploy.js');
    const result = await deployProject(
      {
        ...this.awsTarget,
        direct: this.flags.direct,
        adopt: this.flags.adopt,
        prune: this.flags.prune,
        requireApproval: this.flags['require-approval'],
        timeoutMinutes: this.flags.timeout,
      },
      this.io,
    );
    if (!this.jsonEnabled()) {
      this.log(
        `Deployed ${result.mode === 'pipeline' ? 'the CI/CD pipeline' : `environment ${result.env}`} to aws://${result.account}/${result.region}:`,
      );
      for (const stack of result.stacks) this.log(`  ${stack.name}: ${stack.status}`);
      for (const name of result.pruned) this.log(`  ${name}: deleted (its dataset or pipeline is no longer in the project)`);
      for (const name of result.leftover) this.log(`  ${name}: left (its dataset or pipeline is no longer in the project)`);
      for (const line of result.next) this.log(line);
    }
    return result;
  }
}
