import { describe, expect, it } from 'vitest';
import { targetFlags } from '../../src/aws/session.js';

describe('targetFlags', () => {
  const target = (region: string) => ({ envId: 'dev', account: '123456789012', region });

  it.each([
    ['nothing when the region is the configured one and no profile was given', {}, 'eu-west-1', ''],
    ['--region when it differs from the configured one', { region: 'sa-east-1' }, 'sa-east-1', ' --region sa-east-1'],
    ['no --region when the flag repeats the configured one', { region: 'eu-west-1' }, 'eu-west-1', ''],
    ['--profile whenever one was given', { profile: 'dev-admin' }, 'eu-west-1', ' --profile dev-admin'],
    ['both, region first', { region: 'sa-east-1', profile: 'dev' }, 'sa-east-1', ' --region sa-east-1 --profile dev'],
  ])('renders %s', (_case, options, region, expected) => {
    expect(targetFlags(options, target(region), 'eu-west-1')).toBe(expected);
  });
});
