import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import type { Io } from '../core/io.js';
import { type AwsClients, createAwsClients } from './clients.js';
import { assertAccount, type CallerIdentity, getCallerIdentity } from './identity.js';
import { type AwsTarget, resolveTarget } from './target.js';

/** Options every AWS-facing service takes (the `--path`, `--env`, `--region`, `--profile` flags). */
export interface AwsCommandOptions {
  /** Project root. */
  readonly root: string;
  /** Environment id; @default the only deployment environment */
  readonly env?: string;
  /** Region; @default the environment's region in ddk.json */
  readonly region?: string;
  /** AWS profile; @default the standard credential chain */
  readonly profile?: string;
}

/** A loaded project, the environment acted on, and clients for its account and region. */
export interface AwsSession {
  readonly project: Project;
  readonly target: AwsTarget;
  readonly clients: AwsClients;
  /** Who the credentials belong to (already checked against the target's account). */
  readonly identity: CallerIdentity;
}

/** Options of {@link openSession}. */
export interface OpenSessionOptions {
  /** Accepts `--env cicd`. @default false */
  readonly allowCicd?: boolean;
  /**
   * Checks of the project and target that need no AWS call, run before the credentials are used: input a command
   * refuses is refused even without credentials or network.
   */
  readonly check?: (project: Project, target: AwsTarget) => void | Promise<void>;
}

/**
 * Loads the project (every name checked against its AWS limit), picks the environment, creates the AWS clients
 * and checks that the credentials reach the environment's account. Throws an {@link SdlfError} otherwise.
 */
export async function openSession(options: AwsCommandOptions, io: Io, open: OpenSessionOptions = {}): Promise<AwsSession> {
  const project = await loadProject(options.root);
  const target = resolveTarget(project, { env: options.env, region: options.region, allowCicd: open.allowCicd });
  await open.check?.(project, target);
  const clients = createAwsClients({ region: target.region, profile: options.profile });
  const identity = await getCallerIdentity(clients);
  assertAccount(identity, target.account, `environment "${target.envId}" in ddk.json`);
  io.debug(`Using ${identity.arn} in account ${identity.account}, ${target.region}.`);
  return { project, target, clients, identity };
}

/**
 * Renders the `--region` and `--profile` flags a command was given, for the commands sdlf suggests running next:
 * `--region` only when it differs from the environment's region in ddk.json (without it the suggested command would
 * act on that region instead).
 */
export function targetFlags(
  options: Pick<AwsCommandOptions, 'region' | 'profile'>,
  target: AwsTarget,
  configuredRegion: string,
): string {
  const region = target.region === configuredRegion ? '' : ` --region ${target.region}`;
  return `${region}${options.profile ? ` --profile ${options.profile}` : ''}`;
}
