import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { writeProject } from './moto.js';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
afterEach(() => {
  sts.reset();
  cfn.reset();
});

describe('bootstrapEnvironment', () => {
  it('throws INVALID_ACCOUNT for a --trust that is not an account id, before any change', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ci' });
    const root = writeProject({ region: 'us-east-1', prefix: 'demo' });
    await expect(bootstrapEnvironment({ root, env: 'dev', trust: ['12345'] }, createRecordingIo())).rejects.toMatchObject({
      code: 'INVALID_ACCOUNT',
      message: expect.stringContaining('"12345"'),
    });
    expect(cfn.calls()).toHaveLength(0);
  });

  it('throws WRONG_ACCOUNT when the credentials reach another account than the environment', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999', Arn: 'arn:aws:sts::999999999999:assumed-role/Admin/x' });
    const root = writeProject({ region: 'us-east-1', prefix: 'demo' });
    await expect(bootstrapEnvironment({ root, env: 'cicd' }, createRecordingIo())).rejects.toMatchObject({
      code: 'WRONG_ACCOUNT',
    });
  });

  it('throws UNKNOWN_ENVIRONMENT with the valid choices', async () => {
    const root = writeProject({ region: 'us-east-1', prefix: 'demo' });
    await expect(bootstrapEnvironment({ root, env: 'dve' }, createRecordingIo())).rejects.toMatchObject({
      code: 'UNKNOWN_ENVIRONMENT',
      message: expect.stringContaining('did you mean "dev"'),
    });
  });
});
