import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';

/**
 * Flags sdlf sets against the recommendation, each with its reason. `@aws-cdk/core:explicitStackTags` would stop
 * `Tags.of(stack)` from tagging the CloudFormation stacks, and sdlf tells a project's stacks from other projects'
 * by those stack tags (`sdlf:project`, `sdlf:project-id`, `sdlf:environment`).
 */
const SDLF_FLAG_OVERRIDES: Readonly<Record<string, unknown>> = { '@aws-cdk/core:explicitStackTags': false };

/**
 * The CDK feature flags a new project's cdk.json sets, as `cdk init` writes them: the recommended values of the
 * aws-cdk-lib that sdlf pins (with {@link SDLF_FLAG_OVERRIDES}), sorted by name. They are written once, at
 * `sdlf init`; a project keeps its flags when sdlf moves to a newer aws-cdk-lib, so its templates do not change.
 */
export function recommendedFeatureFlags(): Record<string, unknown> {
  const flags: Record<string, unknown> = { ...CURRENTLY_RECOMMENDED_FLAGS, ...SDLF_FLAG_OVERRIDES };
  return Object.fromEntries(
    Object.keys(flags)
      .sort()
      .map((name) => [name, flags[name]]),
  );
}
