import type { IIoHost } from '@aws-cdk/toolkit-lib';
import { AddTagsToResourceCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../aws/clients.js';
import { isAwsError } from '../aws/errors.js';
import {
  cdkExecutionRoleArn,
  planLakeFormationAdmins,
  readDataLakeSettings,
  writeDataLakeSettings,
} from '../aws/lake-formation.js';
import { type AwsCommandOptions, type AwsSession, openSession, targetFlags } from '../aws/session.js';
import { BOOTSTRAP_STACK, describeStack, type StackInfo } from '../aws/stacks.js';
import { type AwsTarget, CICD_ENVIRONMENT, namingOf } from '../aws/target.js';
import { SDLF_TAG_KEYS } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { type WaitLimits, waitTimeoutError, withDeadline } from '../core/wait.js';
import { createToolkit } from '../toolkit/toolkit.js';

/** The policy the seed's bootstrap attached to the CloudFormation execution role. */
export const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';

/** Options of {@link bootstrapEnvironment}. */
export interface BootstrapEnvironmentOptions extends AwsCommandOptions, WaitLimits {
  /** Accounts trusted to deploy into this one; @default the cicd account, for a deployment environment of a project with CI/CD on (when it is another account) */
  readonly trust?: readonly string[];
  /** Managed policies of the CloudFormation execution role; @default AdministratorAccess, with a warning */
  readonly cloudFormationExecutionPolicies?: readonly string[];
  /** Replaces the toolkit's IoHost (tests). */
  readonly ioHost?: IIoHost;
}

/** What {@link bootstrapEnvironment} did. */
export interface BootstrapEnvironmentResult {
  readonly env: string;
  readonly account: string;
  readonly region: string;
  /** `created-or-updated` when the CDKToolkit stack changed, `unchanged` otherwise. */
  readonly toolkitStack: 'created-or-updated' | 'unchanged';
  readonly trustedAccounts: readonly string[];
  readonly cloudFormationExecutionPolicies: readonly string[];
  /** The Lake Formation part; absent for the cicd environment, which holds no data lake. */
  readonly lakeFormation?: {
    readonly admins: readonly string[];
    readonly addedAdmins: readonly string[];
    readonly clearedDatabaseDefaults: boolean;
    readonly clearedTableDefaults: boolean;
    readonly changed: boolean;
  };
}

/**
 * Bootstraps one environment of the project: the standard CDK bootstrap stack (through toolkit-lib) with the
 * trusted accounts and execution policies, then, for a deployment environment, the Lake Formation settings the
 * data lake needs: the CDK CloudFormation execution role and the caller become data lake administrators
 * (appended, never replacing), and new databases and tables no longer default to IAM-only access. A re-run
 * changes nothing.
 */
export async function bootstrapEnvironment(options: BootstrapEnvironmentOptions, io: Io): Promise<BootstrapEnvironmentResult> {
  const session = await openSession(options, io, { allowCicd: true });
  const { target, clients, identity } = session;
  const trust = trustedAccountsOf(options, session);
  const partition = identity.arn.split(':')[1] ?? 'aws';
  const parameters = planBootstrapParameters(await describeStack(clients, BOOTSTRAP_STACK), trust, options, partition, io);
  io.info(`Bootstrapping aws://${target.account}/${target.region} (environment "${target.envId}")…`);
  const toolkitStack = await deployBootstrapStack(session, parameters, options, io);
  io.info(`CDK bootstrap stack: ${toolkitStack === 'unchanged' ? 'no changes' : 'deployed'}.`);

  const base = {
    env: target.envId,
    account: target.account,
    region: target.region,
    toolkitStack,
    trustedAccounts: parameters.trusted,
    cloudFormationExecutionPolicies: parameters.policies,
  } as const;
  if (target.envId === CICD_ENVIRONMENT || !target.environment) return base;
  return { ...base, lakeFormation: await applyLakeFormationSettings(session, partition, io) };
}

/** The accounts to trust: `--trust`, or the {@link defaultTrust}; each must be a 12-digit account id. */
function trustedAccountsOf(options: BootstrapEnvironmentOptions, session: AwsSession): string[] {
  const trust = [...(options.trust ?? defaultTrust(session.project.cicd, session.target))];
  for (const account of trust) {
    if (!/^\d{12}$/.test(account)) {
      throw new SdlfError(`--trust "${account}" is not an AWS account id.`, {
        code: 'INVALID_ACCOUNT',
        suggestions: ['Pass a 12-digit account id, e.g. --trust 111111111111.'],
      });
    }
  }
  return trust;
}

/** The parameters of the bootstrap stack, and whether they are the ones it already has. */
interface BootstrapParameters {
  readonly trusted: string[];
  readonly lookup: string[];
  readonly policies: string[];
  readonly unchanged: boolean;
}

/**
 * Merges the requested trust and policies into what the bootstrap stack has: trust is appended to the stack's,
 * execution policies change only when given (or on a first bootstrap, with a warning about AdministratorAccess).
 */
function planBootstrapParameters(
  existing: StackInfo | undefined,
  trust: readonly string[],
  options: BootstrapEnvironmentOptions,
  partition: string,
  io: Io,
): BootstrapParameters {
  const current = {
    trusted: listParameter(existing?.parameters.TrustedAccounts),
    lookup: listParameter(existing?.parameters.TrustedAccountsForLookup),
    policies: listParameter(existing?.parameters.CloudFormationExecutionPolicies),
  };
  const trusted = union(current.trusted, trust);
  const lookup = union(current.lookup, trust);
  let policies = [...(options.cloudFormationExecutionPolicies ?? [])];
  if (policies.length === 0) policies = current.policies;
  if (policies.length === 0) {
    policies = [ADMIN_POLICY.replace(':aws:', `:${partition}:`)];
    io.warn(
      `The CloudFormation execution role gets ${policies[0]} (the CDK default). To narrow it, re-run with ` +
        '--cloudformation-execution-policies <policy-arn> listing policies that cover S3, KMS, DynamoDB, SQS, Lambda, ' +
        'Step Functions, Glue, Lake Formation, EventBridge, SNS, SSM, IAM and CloudWatch Logs.',
    );
  }
  const unchanged =
    existing !== undefined &&
    sameList(trusted, current.trusted) &&
    sameList(lookup, current.lookup) &&
    sameList(policies, current.policies);
  return { trusted, lookup, policies, unchanged };
}

/**
 * Deploys the CDK bootstrap stack through toolkit-lib, within the wait limits; on a timeout the error says what is
 * left and how to resume. Returns whether the stack changed.
 */
async function deployBootstrapStack(
  session: AwsSession,
  parameters: BootstrapParameters,
  options: BootstrapEnvironmentOptions,
  io: Io,
): Promise<BootstrapEnvironmentResult['toolkitStack']> {
  const { target, clients } = session;
  const { toolkit, lib } = await createToolkit({ io, region: target.region, profile: options.profile, ioHost: options.ioHost });
  const what = `stack ${BOOTSTRAP_STACK} to be deployed`;
  const result = await withDeadline(
    () =>
      toolkit.bootstrap(lib.BootstrapEnvironments.fromList([`aws://${target.account}/${target.region}`]), {
        parameters: parameters.unchanged
          ? lib.BootstrapStackParameters.onlyExisting()
          : lib.BootstrapStackParameters.withExisting({
              trustedAccounts: parameters.trusted,
              trustedAccountsForLookup: parameters.lookup,
              cloudFormationExecutionPolicies: parameters.policies,
            }),
      }),
    {
      timeoutMinutes: options.timeoutMinutes,
      clock: options.clock,
      what,
      io,
      onTimeout: async (_last, minutes) => {
        const stack = await describeStack(clients, BOOTSTRAP_STACK).catch(() => undefined);
        return waitTimeoutError({
          what,
          minutes,
          state: [
            stack
              ? `left: stack ${BOOTSTRAP_STACK} (${stack.status}; CloudFormation finishes it without sdlf)`
              : `not created: stack ${BOOTSTRAP_STACK}`,
            'Lake Formation settings: not changed yet',
          ],
          resumeCommand: `sdlf bootstrap --env ${target.envId}${targetFlags(options, target, target.environment?.region ?? session.project.cicd.region)}`,
        });
      },
    },
  );
  return result.environments.every((e) => e.status === 'no-op') ? 'unchanged' : 'created-or-updated';
}

/**
 * Makes the CDK CloudFormation execution role and the caller data lake administrators (appended) and turns off the
 * IAM-only defaults for new databases and tables, recording the admins it added for `delete-all`.
 */
async function applyLakeFormationSettings(
  session: AwsSession,
  partition: string,
  io: Io,
): Promise<NonNullable<BootstrapEnvironmentResult['lakeFormation']>> {
  const { target, clients, identity } = session;
  const admins = [cdkExecutionRoleArn(target.account, target.region, partition), identity.principalArn];
  const plan = planLakeFormationAdmins(await readDataLakeSettings(clients), admins);
  if (plan.changed) {
    await writeDataLakeSettings(clients, plan.next);
    for (const arn of plan.addedAdmins) io.info(`Lake Formation: added data lake administrator ${arn}.`);
    if (plan.clearedDatabaseDefaults) io.info('Lake Formation: turned off "Use only IAM access control for new databases".');
    if (plan.clearedTableDefaults)
      io.info('Lake Formation: turned off "Use only IAM access control for new tables in new databases".');
    if (plan.addedAdmins.length > 0) await recordAddedAdmins(clients, target, plan.addedAdmins);
  } else {
    io.info('Lake Formation: settings already in place, no changes.');
  }
  return {
    admins,
    addedAdmins: plan.addedAdmins,
    clearedDatabaseDefaults: plan.clearedDatabaseDefaults,
    clearedTableDefaults: plan.clearedTableDefaults,
    changed: plan.changed,
  };
}

/** The cicd account, for a deployment environment in another account of a project with CI/CD on. */
function defaultTrust(cicd: { enabled: boolean; account: string }, target: AwsTarget): string[] {
  return target.envId !== CICD_ENVIRONMENT && cicd.enabled && cicd.account !== target.account ? [cicd.account] : [];
}

/**
 * Remembers which Lake Formation admins bootstrap added, in an SSM parameter of the environment
 * (`/{prefix}/{env}/bootstrap/lake-formation-admins`), so that `delete-all` removes exactly those and no one else.
 */
async function recordAddedAdmins(clients: AwsClients, target: AwsTarget, added: readonly string[]): Promise<void> {
  if (!target.environment) return;
  const name = lakeFormationAdminsParameter(target);
  const previous = await readRecordedAdmins(clients, name);
  const value = JSON.stringify([...new Set([...previous, ...added])]);
  await clients.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  await clients.ssm.send(
    new AddTagsToResourceCommand({
      ResourceType: 'Parameter',
      ResourceId: name,
      Tags: [
        { Key: SDLF_TAG_KEYS.project, Value: target.environment.resourcePrefix },
        { Key: SDLF_TAG_KEYS.environment, Value: target.environment.id },
      ],
    }),
  );
}

/** The SSM parameter where bootstrap records the Lake Formation admins it added. */
export function lakeFormationAdminsParameter(target: AwsTarget): string {
  if (!target.environment) throw new Error('the cicd environment has no Lake Formation settings');
  return namingOf(target, target.environment).ssm('bootstrap', 'lake-formation-admins');
}

/** Reads the admins bootstrap recorded; an empty list when there is no record. */
export async function readRecordedAdmins(clients: AwsClients, name: string): Promise<string[]> {
  try {
    const reply = await clients.ssm.send(new GetParameterCommand({ Name: name }));
    const parsed: unknown = JSON.parse(reply.Parameter?.Value ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) return [];
    throw error;
  }
}

/** Splits a comma-separated CloudFormation list parameter. */
function listParameter(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}
