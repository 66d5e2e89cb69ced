import type { DeploymentEnvironment, Project } from '../config/model.js';
import { Naming } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

/** The id of the CI/CD environment in `ddk.json`. */
export const CICD_ENVIRONMENT = 'cicd';

/** An account and region the CLI acts on, and what it is in the project. */
export interface AwsTarget {
  /** `cicd` or a deployment environment id. */
  readonly envId: string;
  readonly account: string;
  readonly region: string;
  /** The deployment environment; undefined for `cicd`. */
  readonly environment?: DeploymentEnvironment;
}

/** Options of {@link resolveTarget}. */
export interface ResolveTargetOptions {
  /** The `--env` flag; @default the only deployment environment, when there is exactly one */
  readonly env?: string;
  /** The `--region` flag; @default the environment's region in ddk.json */
  readonly region?: string;
  /** Accepts `cicd` as the environment. @default false */
  readonly allowCicd?: boolean;
}

/**
 * Picks the environment a command acts on from `--env` (or the project's only deployment environment) and its
 * account and region (`--region` overrides the region). Throws an {@link SdlfError} naming the valid choices.
 */
export function resolveTarget(project: Project, options: ResolveTargetOptions): AwsTarget {
  const ids = project.environments.map((e) => e.id);
  const choices = options.allowCicd ? [CICD_ENVIRONMENT, ...ids] : ids;
  const envId = options.env ?? (ids.length === 1 ? ids[0] : undefined);
  if (envId === undefined) {
    throw new SdlfError(`The project has ${ids.length} environments (${ids.join(', ')}); sdlf cannot tell which one to use.`, {
      code: 'ENVIRONMENT_REQUIRED',
      suggestions: [`Pass --env with one of: ${choices.join(', ')}.`],
    });
  }
  if (envId === CICD_ENVIRONMENT && options.allowCicd) {
    return { envId, account: project.cicd.account, region: options.region ?? project.cicd.region };
  }
  const environment = project.environments.find((e) => e.id === envId);
  if (!environment) {
    throw new SdlfError(`Environment "${envId}" is not in ddk.json; ${didYouMean(envId, choices)}`, {
      code: 'UNKNOWN_ENVIRONMENT',
      suggestions: [`Pass --env with one of: ${choices.join(', ')}.`],
    });
  }
  return { envId, account: environment.account, region: options.region ?? environment.region, environment };
}

/** Returns the deployment environment of a target, or fails when the target is `cicd`. */
export function requireDeploymentEnvironment(target: AwsTarget, command: string): DeploymentEnvironment {
  if (target.environment) return target.environment;
  throw new SdlfError(`"sdlf ${command}" acts on a deployment environment, not on "${target.envId}".`, {
    code: 'UNKNOWN_ENVIRONMENT',
    suggestions: ['Pass --env with a deployment environment such as dev.'],
  });
}

/** The naming of a target's deployment environment, in the target's region (which `--region` may override). */
export function namingOf(target: AwsTarget, environment: DeploymentEnvironment): Naming {
  return new Naming({ prefix: environment.resourcePrefix, env: environment.id, account: target.account, region: target.region });
}
