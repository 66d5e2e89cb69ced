import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { execa } from 'execa';
import { inject } from 'vitest';
import { repoRoot } from '../helpers/project.js';

/** The account moto_server answers for with its default credentials. */
export const MOTO_ACCOUNT = '123456789012';

/**
 * Points the AWS SDK and the toolkit of this test process at the shared moto_server, with dummy credentials that
 * exist only inside this process.
 */
export function useMoto(): string {
  // moto's CloudFormation reads template URLs on "localhost" path-style only, so use that name for 127.0.0.1.
  const endpoint = inject('motoEndpoint').replace('127.0.0.1', 'localhost');
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // Keeps toolkit caches (account lookups) out of the real home folder.
    HOME: mkdtempSync(join(tmpdir(), 'sdlf-home-')),
  });
  delete process.env.AWS_PROFILE;
  return endpoint;
}

/** Credentials as the AWS SDK reads them from the environment. */
export interface MotoCredentials {
  readonly AWS_ACCESS_KEY_ID: string;
  readonly AWS_SECRET_ACCESS_KEY: string;
  readonly AWS_SESSION_TOKEN: string;
}

/**
 * Assumes a role in another account (moto creates nothing for it, but maps the session's credentials to the role's
 * account), so that a test can act as a second account of the same moto_server.
 */
export async function assumeRoleIn(account: string, region: string): Promise<MotoCredentials> {
  const sts = new STSClient({ region });
  const reply = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/Admin`, RoleSessionName: 'sdlf-test' }),
  );
  const credentials = reply.Credentials;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken) {
    throw new Error(`moto returned no credentials for account ${account}`);
  }
  return {
    AWS_ACCESS_KEY_ID: credentials.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.SecretAccessKey,
    AWS_SESSION_TOKEN: credentials.SessionToken,
  };
}

/** Runs `work` with `credentials` in the environment of this process, and restores the previous ones afterwards. */
export async function withCredentials<T>(credentials: MotoCredentials, work: () => Promise<T>): Promise<T> {
  const previous = {
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN: process.env.AWS_SESSION_TOKEN,
  };
  Object.assign(process.env, credentials);
  try {
    return await work();
  } finally {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** Options of {@link writeProject}. */
export interface ProjectFixture {
  readonly region: string;
  readonly prefix: string;
  readonly envs?: readonly string[];
  readonly cicdEnabled?: boolean;
  readonly datasets?: ReadonlyArray<{ team: string; dataset: string; pipeline?: string }>;
}

/** Writes a project (ddk.json, parameters.json, sample data) for moto's account into a fresh folder. */
export function writeProject(fixture: ProjectFixture): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdlf-lifecycle-'));
  const envs = fixture.envs ?? ['dev'];
  const environments: Record<string, unknown> = {
    cicd: { account: MOTO_ACCOUNT, region: fixture.region, cicd_enabled: fixture.cicdEnabled ?? false, repository: 'sdlf-demo' },
  };
  for (const env of envs) environments[env] = { account: MOTO_ACCOUNT, region: fixture.region, resource_prefix: fixture.prefix };
  const datasets = fixture.datasets ?? [{ team: 'demoteam', dataset: 'legislators' }];
  writeFileSync(join(dir, 'ddk.json'), `${JSON.stringify({ environments }, null, 2)}\n`);
  writeFileSync(join(dir, 'parameters.json'), `${JSON.stringify(Object.fromEntries(envs.map((e) => [e, datasets])), null, 2)}\n`);
  for (const { team, dataset } of datasets) {
    mkdirSync(join(dir, 'data', team, dataset), { recursive: true });
    writeFileSync(join(dir, 'data', team, dataset, 'persons.json'), '[{"id":1,"name":"Ada"},{"id":2,"name":"Grace"}]\n');
    writeFileSync(join(dir, 'data', team, dataset, 'memberships.json'), '{"id":1,"org":"senate"}\n');
  }
  return dir;
}

/** Options of {@link initDemoProject}. */
export interface DemoProjectOptions {
  readonly region: string;
  readonly prefix: string;
  /** Further environments of the project, with the same account, region and prefix as `dev`. */
  readonly moreEnvs?: readonly string[];
  /** Account of the `dev` environment. @default moto's account */
  readonly account?: string;
  /** Turns CI/CD on, with the pipeline in this account (and the project's region). @default CI/CD off */
  readonly cicdAccount?: string;
}

/**
 * Creates the demo project exactly as `sdlf init` writes it (the built CLI, environment `dev`, deploying directly
 * unless `cicdAccount` is given) for moto's account in a fresh folder, and returns its root.
 */
export async function initDemoProject(options: DemoProjectOptions): Promise<string> {
  const root = join(mkdtempSync(join(tmpdir(), 'sdlf-lifecycle-')), 'lake');
  const args = [
    'init',
    root,
    '--prefix',
    options.prefix,
    '--account',
    options.account ?? MOTO_ACCOUNT,
    '--region',
    options.region,
  ];
  const cicd = options.cicdAccount ? ['--cicd', '--cicd-account', options.cicdAccount] : ['--no-cicd'];
  const init = await execa('node', [join(repoRoot, 'bin', 'run.js'), ...args, ...cicd, '--yes'], {
    reject: false,
    stdin: 'ignore',
  });
  if (init.exitCode !== 0) throw new Error(`sdlf init failed (exit ${init.exitCode}): ${init.stderr}`);
  if (options.moreEnvs?.length) {
    const path = join(root, 'ddk.json');
    const ddk = JSON.parse(readFileSync(path, 'utf8')) as { environments: Record<string, unknown> };
    for (const env of options.moreEnvs) ddk.environments[env] = ddk.environments.dev;
    writeFileSync(path, `${JSON.stringify(ddk, null, 2)}\n`);
  }
  return root;
}

/** A CloudFormation template as deployed: its parameters and resources. */
interface DeployedTemplate {
  readonly Parameters?: Record<string, { Type: string; Default?: string }>;
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/**
 * Creates the Glue database and Glue job that a deployed dataset stack declares and that moto's CloudFormation
 * skips (it does not model AWS::Glue::* resources): their properties are read from the stack's deployed template,
 * with its intrinsic functions resolved against the deployed stack (its SSM-typed parameters, resource ids and
 * pseudo parameters), so the job runs the script, SQL and arguments that the deploy published.
 */
export async function createSkippedGlueResources(stackName: string, region: string): Promise<{ database: string; job: string }> {
  const { CloudFormationClient, DescribeStackResourceCommand, GetTemplateCommand } = await import(
    '@aws-sdk/client-cloudformation'
  );
  const { GetParameterCommand, SSMClient } = await import('@aws-sdk/client-ssm');
  const { motoGlue } = await import('../helpers/moto-glue.js');
  const cfn = new CloudFormationClient({ region });
  const ssm = new SSMClient({ region });
  const body = (
    await cfn.send(new GetTemplateCommand({ StackName: stackName })).catch((error: Error) => {
      throw new Error(`GetTemplate of ${stackName}: ${error.message}`);
    })
  ).TemplateBody;
  if (!body) throw new Error(`stack ${stackName} has no template`);
  const template = JSON.parse(body) as DeployedTemplate;
  const physicalId = async (logicalId: string) =>
    (await cfn.send(new DescribeStackResourceCommand({ StackName: stackName, LogicalResourceId: logicalId }))).StackResourceDetail
      ?.PhysicalResourceId ?? '';
  const ref = async (name: string): Promise<string> => {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': MOTO_ACCOUNT,
      'AWS::Region': region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
    };
    if (name in pseudo) return pseudo[name] as string;
    const parameter = template.Parameters?.[name];
    if (parameter?.Type.startsWith('AWS::SSM::Parameter::Value') && parameter.Default) {
      const reply = await ssm.send(new GetParameterCommand({ Name: parameter.Default })).catch((error: Error) => {
        throw new Error(`GetParameter ${parameter.Default}: ${error.message}`);
      });
      return reply.Parameter?.Value ?? '';
    }
    if (parameter) return parameter.Default ?? '';
    if (name in template.Resources) return physicalId(name);
    throw new Error(`unresolvable Ref ${name} in ${stackName}`);
  };
  const getAtt = async (logicalId: string, attribute: string): Promise<string> => {
    const resource = template.Resources[logicalId];
    // A role's ARN from its name: the roles of sdlf's stacks are named (see src/config/naming.ts).
    if (resource?.Type === 'AWS::IAM::Role' && attribute === 'Arn' && resource.Properties?.RoleName !== undefined) {
      return `arn:aws:iam::${MOTO_ACCOUNT}:role/${String(await resolve(resource.Properties.RoleName))}`;
    }
    throw new Error(`unresolvable Fn::GetAtt ${logicalId}.${attribute} in ${stackName}`);
  };
  const resolve = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (typeof value !== 'object' || value === null) return value;
    const node = value as Record<string, unknown>;
    if (typeof node.Ref === 'string') return ref(node.Ref);
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [id, attribute] = node['Fn::GetAtt'] as [string, string];
      return getAtt(id, attribute);
    }
    if (Array.isArray(node['Fn::Join'])) {
      const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
      return ((await resolve(parts)) as unknown[]).join(separator);
    }
    if (node['Fn::Sub'] !== undefined) {
      const [text, variables] = (Array.isArray(node['Fn::Sub']) ? node['Fn::Sub'] : [node['Fn::Sub'], {}]) as [
        string,
        Record<string, unknown>,
      ];
      let out = '';
      let last = 0;
      for (const match of text.matchAll(/\$\{([^}]+)\}/g)) {
        const name = match[1] as string;
        const [id, attribute] = name.split('.');
        const replaced =
          name in variables
            ? await resolve(variables[name])
            : attribute
              ? await getAtt(id as string, attribute)
              : await ref(name);
        out += text.slice(last, match.index) + String(replaced);
        last = (match.index ?? 0) + match[0].length;
      }
      return out + text.slice(last);
    }
    return Object.fromEntries(await Promise.all(Object.entries(node).map(async ([k, v]) => [k, await resolve(v)])));
  };
  const of = (type: string) => {
    const found = Object.values(template.Resources).filter((r) => r.Type === type);
    if (found.length !== 1) throw new Error(`${stackName} declares ${found.length} ${type}, expected 1`);
    return found[0]?.Properties ?? {};
  };
  const endpoint = inject('motoEndpoint');
  const database = (await resolve(of('AWS::Glue::Database'))) as { DatabaseInput: { Name: string } };
  motoGlue(endpoint, 'create_database', { DatabaseInput: database.DatabaseInput }, region);
  const job = (await resolve(of('AWS::Glue::Job'))) as Record<string, unknown> & { Name: string };
  motoGlue(endpoint, 'create_job', job, region);
  return { database: database.DatabaseInput.Name, job: job.Name };
}
