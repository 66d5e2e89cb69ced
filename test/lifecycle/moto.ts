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
