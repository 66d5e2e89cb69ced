import { Args } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { CreateRepositoryResult } from '../services/create-repository.js';

/** `sdlf create-repository [NAME]`: the CI/CD source repository and the git remote. */
export default class CreateRepository extends SdlfCommand<typeof CreateRepository> {
  static override summary = 'Create the CodeCommit repository of the CI/CD pipeline and set the git remote.';
  static override description =
    'Creates the CodeCommit repository named in ddk.json (environments.cicd.repository) in the cicd account, unless ' +
    'it exists, and sets the git remote "origin" of the project to it (running "git init" first when the folder is ' +
    'not a git repository; existing history is never touched). Prints the push command. With a CodeConnections ' +
    'source (GitHub, GitLab, Bitbucket) it checks the connection and explains the console step it needs.';
  static override examples = [
    '<%= config.bin %> create-repository',
    '<%= config.bin %> create-repository sdlf-ddk-example --profile cicd',
  ];
  static override args = {
    name: Args.string({ description: "Repository name; must match ddk.json's cicd repository." }),
  };
  static override flags = { profile: sharedFlags.profile, region: sharedFlags.region };

  public async run(): Promise<CreateRepositoryResult> {
    const { createRepository } = await import('../services/create-repository.js');
    const result = await createRepository(
      { root: this.flags.path, name: this.args.name, profile: this.flags.profile, region: this.flags.region },
      this.io,
    );
    if (!this.jsonEnabled()) {
      if (result.provider === 'codecommit') {
        this.log(`Repository ${result.repository}: ${result.status} (${result.cloneUrl}); remote origin ${result.remote}.`);
        this.log(`Push your project with: ${result.pushCommand}`);
      } else {
        this.log(`Connection ${result.connectionArn}: ${result.connectionStatus}`);
        for (const line of result.instructions) this.log(`  ${line}`);
      }
    }
    return result;
  }
}
