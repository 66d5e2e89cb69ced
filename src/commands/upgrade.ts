import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { UpgradeProjectResult } from '../services/upgrade-project.js';

/** `sdlf upgrade`: moves a project to the running sdlf. */
export default class Upgrade extends SdlfCommand<typeof Upgrade> {
  static override summary = 'Move the project to this sdlf: its dependency, vendored tarball, lockfile and generated files.';
  static override description =
    "Writes this sdlf's dependency spec into package.json (the registry range of this version, or this sdlf packed " +
    'into vendor/ when no registry serves it; --sdlf-spec overrides), the aws-cdk version and feature flags it needs ' +
    '(values you set stay), and the files it generated (README.md, tsconfig.json, .gitignore) while they are as it ' +
    'wrote them, then runs npm install to update package-lock.json. Each change is shown as a diff. A generated ' +
    'file you edited is kept unless you say so at the prompt or pass --force. .sdlf-generated.json records what ' +
    'sdlf generated; commit it with the project. If npm fails, every file is put back.';
  static override examples = [
    '<%= config.bin %> upgrade --dry-run',
    '<%= config.bin %> upgrade',
    '<%= config.bin %> upgrade --sdlf-spec ^0.2.0 --no-install',
  ];
  static override flags = {
    'sdlf-spec': Flags.string({
      description:
        'npm spec to write for sdlf: a range, a git URL or a tarball (default: the range of this sdlf when a registry installed it, else this sdlf packed into vendor/).',
      env: 'SDLF_SDLF_SPEC',
    }),
    install: Flags.boolean({
      description: 'Run npm install afterwards, which updates package-lock.json (--no-install: skip, and say to run it).',
      env: 'SDLF_INSTALL',
      allowNo: true,
      default: true,
    }),
    force: Flags.boolean({
      description: "Replace generated files you edited with this sdlf's version without asking.",
      env: 'SDLF_FORCE',
      default: false,
    }),
    'dry-run': sharedFlags['dry-run'],
  };

  public async run(): Promise<UpgradeProjectResult> {
    const { formatUpgradeSummary, upgradeProject } = await import('../services/upgrade-project.js');
    const { flags } = this;
    const result = await upgradeProject(
      {
        root: flags.path,
        ...(flags['sdlf-spec'] === undefined ? {} : { sdlfSpec: flags['sdlf-spec'] }),
        dryRun: flags['dry-run'],
        install: flags.install,
        force: flags.force,
        ask: this.interactive,
      },
      this.io,
    );
    if (!this.jsonEnabled()) for (const line of formatUpgradeSummary(result)) this.log(line);
    return result;
  }
}
