import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { sharedFlags } from '../cli/flags.js';
import type { BootstrapEnvironmentResult } from '../services/bootstrap.js';

/** `sdlf bootstrap`: CDK bootstrap of an environment, then its Lake Formation settings. */
export default class Bootstrap extends SdlfCommand<typeof Bootstrap> {
  static override summary = "Bootstrap an environment's account and region for the CDK, and set up Lake Formation.";
  static override description =
    'Deploys the standard CDK bootstrap stack (CDKToolkit) to the account and region of --env (cicd, dev, …) through ' +
    'the CDK toolkit library; no global cdk is needed. A deployment environment trusts the cicd account when CI/CD ' +
    'is on (override with --trust). The CloudFormation execution role gets AdministratorAccess unless you pass ' +
    '--cloudformation-execution-policies with narrower managed policies (they must cover S3, KMS, DynamoDB, SQS, ' +
    'Lambda, Step Functions, Glue, Lake Formation, EventBridge, SNS, SSM, IAM and CloudWatch Logs).\n\n' +
    'For a deployment environment it then does what the seed left to the console: adds the CDK execution role and ' +
    'you (your role, for an assumed-role session) to the data lake administrators, keeping the existing ones, and ' +
    'turns off "Use only IAM access control" for new databases and tables. Re-running changes nothing.';
  static override examples = [
    '<%= config.bin %> bootstrap --env cicd',
    '<%= config.bin %> bootstrap --env dev',
    '<%= config.bin %> bootstrap --env dev --trust 111111111111 --profile dev-admin',
    '<%= config.bin %> bootstrap --env dev --cloudformation-execution-policies arn:aws:iam::123456789012:policy/sdlf-deployer',
  ];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    timeout: sharedFlags.timeout,
    trust: Flags.string({
      description:
        'Account trusted to deploy into this one (repeatable). Default: the cicd account, for a deployment environment in another account when CI/CD is on.',
      multiple: true,
      env: 'SDLF_TRUST',
    }),
    'cloudformation-execution-policies': Flags.string({
      description: 'Managed policy ARN for the CloudFormation execution role (repeatable). Default: AdministratorAccess.',
      multiple: true,
      env: 'SDLF_CLOUDFORMATION_EXECUTION_POLICIES',
    }),
  };

  public async run(): Promise<BootstrapEnvironmentResult> {
    const { bootstrapEnvironment } = await import('../services/bootstrap.js');
    const result = await bootstrapEnvironment(
      {
        ...this.awsTarget,
        trust: this.flags.trust,
        cloudFormationExecutionPolicies: this.flags['cloudformation-execution-policies'],
        timeoutMinutes: this.flags.timeout,
      },
      this.io,
    );
    if (!this.jsonEnabled()) {
      this.log(`Environment ${result.env} (aws://${result.account}/${result.region}) is bootstrapped.`);
      this.log(`  CDKToolkit stack: ${result.toolkitStack === 'unchanged' ? 'no changes' : 'deployed'}`);
      if (result.trustedAccounts.length > 0) this.log(`  trusted accounts: ${result.trustedAccounts.join(', ')}`);
      const lf = result.lakeFormation;
      if (lf) {
        this.log(`  Lake Formation: ${lf.changed ? 'updated' : 'no changes'}`);
        for (const arn of lf.addedAdmins) this.log(`    added admin ${arn}`);
        if (lf.clearedDatabaseDefaults || lf.clearedTableDefaults) this.log('    IAM-only access defaults turned off');
      }
    }
    return result;
  }
}
