import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';

/**
 * The CDK feature flags a new project's cdk.json sets, as `cdk init` writes them: the recommended values of the
 * aws-cdk-lib that sdlf pins, sorted by name. They are written once, at `sdlf init`; a project keeps its flags when
 * sdlf moves to a newer aws-cdk-lib, so its templates do not change under it.
 */
export function recommendedFeatureFlags(): Record<string, unknown> {
  const flags: Record<string, unknown> = CURRENTLY_RECOMMENDED_FLAGS;
  return Object.fromEntries(
    Object.keys(flags)
      .sort()
      .map((name) => [name, flags[name]]),
  );
}
