import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.js';
import { assertAccount, getCallerIdentity, principalArnOf } from '../../src/aws/identity.js';
import { isSdlfError } from '../../src/core/errors.js';

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
afterEach(() => {
  sts.reset();
  iam.reset();
});

describe('principalArnOf', () => {
  it.each([
    ['arn:aws:sts::123456789012:assumed-role/Admin/jane', 'arn:aws:iam::123456789012:role/Admin'],
    ['arn:aws-us-gov:sts::123456789012:assumed-role/Ops/ci-run-1', 'arn:aws-us-gov:iam::123456789012:role/Ops'],
    ['arn:aws:iam::123456789012:user/jane', 'arn:aws:iam::123456789012:user/jane'],
    ['arn:aws:iam::123456789012:role/Deployer', 'arn:aws:iam::123456789012:role/Deployer'],
  ])('maps %s to %s', (input, expected) => {
    expect(principalArnOf(input)).toBe(expected);
  });
});

describe('getCallerIdentity', () => {
  it('keeps the path of an assumed role when IAM can tell it', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: 'arn:aws:sts::123456789012:assumed-role/Admin/jane' });
    iam.on(GetRoleCommand).resolves({
      Role: {
        Arn: 'arn:aws:iam::123456789012:role/team/Admin',
        RoleName: 'Admin',
        Path: '/team/',
        RoleId: 'x',
        CreateDate: new Date(),
      },
    });
    const identity = await getCallerIdentity(createAwsClients({ region: 'us-east-1' }));
    expect(identity.principalArn).toBe('arn:aws:iam::123456789012:role/team/Admin');
  });

  it('falls back to the path-less role ARN without iam:GetRole', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: 'arn:aws:sts::123456789012:assumed-role/Admin/jane' });
    iam.on(GetRoleCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const identity = await getCallerIdentity(createAwsClients({ region: 'us-east-1' }));
    expect(identity.principalArn).toBe('arn:aws:iam::123456789012:role/Admin');
  });

  it('throws NO_CREDENTIALS with a way to log in when there are no credentials', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const error = await getCallerIdentity(createAwsClients({ region: 'us-east-1' })).catch((e: unknown) => e);
    expect(isSdlfError(error) && error.code).toBe('NO_CREDENTIALS');
    expect(isSdlfError(error) && error.suggestions?.join(' ')).toContain('--profile');
  });
});

describe('assertAccount', () => {
  it('throws WRONG_ACCOUNT naming both accounts', () => {
    const identity = {
      account: '999999999999',
      arn: 'arn:aws:iam::999999999999:user/x',
      principalArn: 'arn:aws:iam::999999999999:user/x',
    };
    expect(() => assertAccount(identity, '123456789012', 'environment "dev"')).toThrow(
      /999999999999.*environment "dev" is account 123456789012/,
    );
  });
});
