import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import { createTerminalPrompter } from '../cli/terminal.js';
import { SdlfError } from '../core/errors.js';
import type { InitProjectResult } from '../services/init-project.js';

/** `sdlf init [DIRECTORY]`: creates a new project with the legislators demo dataset. */
export default class Init extends SdlfCommand<typeof Init> {
  static override summary = 'Create a new sdlf project, with the demoteam/legislators demo dataset.';
  static override description =
    'Writes ddk.json (a cicd and one deployment environment), parameters.json with the demoteam/legislators dataset, ' +
    'its light transform, Glue script and SQL, sample data under data/, package.json, tsconfig.json, cdk.json, ' +
    '.gitignore and a README, then installs the dependencies (package-lock.json). The project depends on the ' +
    'semver range of this sdlf when a registry installed it, else on this sdlf packed into vendor/ (a file: ' +
    'dependency, to commit with the project); --sdlf-spec overrides both. On a terminal it asks for what the flags do not give; in scripts pass the flags or ' +
    '--yes to accept the defaults (the account then is the placeholder 111111111111, to replace before deploying). ' +
    'It refuses a non-empty folder without --force.';
  static override examples = [
    '<%= config.bin %> init my-lake',
    '<%= config.bin %> init my-lake --yes',
    '<%= config.bin %> init my-lake --prefix acme --account 123456789012 --region eu-west-1 --no-cicd',
    '<%= config.bin %> init my-lake --prefix acme --account 123456789012 --region eu-west-1 --cicd --cicd-account 210987654321 --cicd-region eu-west-1 --repository acme-lake',
  ];
  static override findsProject = false;
  static override args = {
    directory: Args.string({ description: 'Folder of the new project, relative to --path (default: the --path folder itself).' }),
  };
  static override flags = {
    path: Flags.directory({
      char: 'p',
      description: 'Folder the new project goes in, or under (with DIRECTORY).',
      env: 'SDLF_PATH',
      default: '.',
    }),
    prefix: Flags.string({
      description: 'Resource prefix that starts every AWS resource name (default: ddk).',
      env: 'SDLF_PREFIX',
    }),
    'project-id': Flags.string({
      description: 'Id of the project, written to ddk.json and tagged sdlf:project-id on every stack (default: a new UUID).',
      env: 'SDLF_PROJECT_ID',
    }),
    'env-name': Flags.string({ description: 'Name of the deployment environment.', env: 'SDLF_ENV_NAME', default: 'dev' }),
    account: Flags.string({
      description: 'AWS account id of the deployment environment (default: AWS_ACCOUNT_ID).',
      env: 'SDLF_ACCOUNT',
    }),
    region: Flags.string({
      description: 'AWS region of the deployment environment (default: AWS_REGION).',
      env: 'SDLF_REGION',
    }),
    cicd: Flags.boolean({
      description: 'Deploy through a CI/CD pipeline in the cicd account (--no-cicd: deploy directly).',
      env: 'SDLF_CICD',
      allowNo: true,
    }),
    'cicd-account': Flags.string({
      description: 'AWS account id of the CI/CD pipeline (default: the environment account).',
      env: 'SDLF_CICD_ACCOUNT',
    }),
    'cicd-region': Flags.string({
      description: 'AWS region of the CI/CD pipeline (default: the environment region).',
      env: 'SDLF_CICD_REGION',
    }),
    repository: Flags.string({
      description: 'CodeCommit repository of the CI/CD pipeline (default: the folder name).',
      env: 'SDLF_REPOSITORY',
    }),
    'sdlf-spec': Flags.string({
      description:
        "npm spec of the project's sdlf dependency: a range, a git URL or a tarball (default: the range of this sdlf when a registry installed it, else this sdlf packed into vendor/).",
      env: 'SDLF_SDLF_SPEC',
    }),
    install: Flags.boolean({
      description: "Install the project's dependencies with npm, which writes package-lock.json (--no-install: skip).",
      env: 'SDLF_INSTALL',
      allowNo: true,
      default: true,
    }),
    yes: sharedFlags.yes,
    force: sharedFlags.force,
    'dry-run': sharedFlags['dry-run'],
  };

  public async run(): Promise<InitProjectResult> {
    const { initProject } = await import('../services/init-project.js');
    const { flags } = this;
    const { directory } = this.args;
    if (directory !== undefined && directory.trim() === '') {
      // An empty argument (e.g. an unset shell variable in quotes) must not mean "here".
      throw new SdlfError(`The project folder ${JSON.stringify(directory)} is empty.`, {
        code: 'INVALID_DIRECTORY',
        suggestions: ['Name the new folder (sdlf init my-lake), or leave the argument out to create the project in --path.'],
      });
    }
    const account = process.env.AWS_ACCOUNT_ID;
    const regionVariable = process.env.AWS_REGION
      ? 'AWS_REGION'
      : process.env.AWS_DEFAULT_REGION
        ? 'AWS_DEFAULT_REGION'
        : undefined;
    const result = await initProject(
      {
        directory: resolve(flags.path, directory ?? '.'),
        prefix: flags.prefix,
        envName: flags['env-name'],
        account: flags.account,
        region: flags.region,
        cicd: flags.cicd,
        cicdAccount: flags['cicd-account'],
        cicdRegion: flags['cicd-region'],
        repository: flags.repository,
        yes: flags.yes,
        force: flags.force,
        dryRun: flags['dry-run'],
        inferred: {
          account: account ? { value: account, source: 'AWS_ACCOUNT_ID' } : undefined,
          region: regionVariable ? { value: process.env[regionVariable] ?? '', source: regionVariable } : undefined,
        },
        prompter: this.interactive ? createTerminalPrompter() : undefined,
        sdlfSpec: flags['sdlf-spec'],
        install: flags.install,
        projectId: flags['project-id'],
      },
      this.io,
    );
    if (!this.jsonEnabled()) {
      const written = result.files.filter((f) => f.action !== 'identical').length;
      this.log(
        result.dryRun
          ? `Dry run: sdlf init would write ${written} file(s) in ${result.root}; nothing was written.`
          : `Created the sdlf project ${result.root} (${written} file(s)).`,
      );
      this.log(`  project id: ${result.projectId}`);
      this.log(
        `  environment ${result.environment.id}: account ${result.environment.account}, ${result.environment.region}, prefix "${result.prefix}"`,
      );
      this.log(
        `  CI/CD: ${result.cicd.enabled ? `on (account ${result.cicd.account}, ${result.cicd.region}, repository ${result.cicd.repository})` : 'off'}`,
      );
      this.log(
        `  dataset ${result.dataset.team}/${result.dataset.dataset} (pipeline ${result.dataset.pipeline}) with sample data`,
      );
      this.log(
        `  sdlf dependency: ${result.sdlf.spec}${result.sdlf.source === 'vendored' ? ' (this sdlf, packed into the project: no registry serves it)' : ''}`,
      );
      if (!result.dryRun) {
        this.log('Next steps:');
        for (const step of result.nextSteps) this.log(`  ${step}`);
      }
    }
    return result;
  }
}
