import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deployProject, missingAssetsBucket } from '../../src/services/deploy.js';
import { initDemoProject, useMoto } from './moto.js';

// A deploy whose CloudFormation cannot read the templates it was given: the endpoint override names an IP address
// (moto_server, like other emulators, reads path-style template URLs on "localhost" only), or on AWS the assets
// bucket of the bootstrap stack is gone. Both are exit 2 with the fix, not a bare NoSuchBucket.
const region = 'me-south-1';

describe('a deploy CloudFormation cannot read the templates of', () => {
  it('says to use localhost when AWS_ENDPOINT_URL is an IP address', async () => {
    useMoto();
    const endpoint = inject('motoEndpoint');
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const root = await initDemoProject({ region, prefix: 'ipx' });
    await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = endpoint;
    try {
      const error = await deployProject(
        { root, env: 'dev', direct: true, requireApproval: 'never', pollingIntervalMs: 100 },
        createRecordingIo(),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SdlfError);
      expect(error).toMatchObject({ code: 'TEMPLATE_UNREADABLE' });
      expect((error as SdlfError).message).toBe(
        `CloudFormation at ${endpoint} (AWS_ENDPOINT_URL) could not read the stack templates sdlf uploaded to cdk-hnb659fds-assets-123456789012-${region}: it answered NoSuchBucket when reading them from ${endpoint.slice('http://'.length)}. Nothing was deployed.`,
      );
      expect(String((error as SdlfError).suggestions)).toContain(
        `set AWS_ENDPOINT_URL=${endpoint.replace('127.0.0.1', 'localhost')}, then re-run "sdlf deploy --env dev --direct"`,
      );
    } finally {
      process.env.AWS_ENDPOINT_URL = previous;
      rmSync(dirname(root), { recursive: true, force: true });
    }
  }, 180_000);

  it('on AWS, says the assets bucket was deleted and how to bootstrap again', () => {
    const previous = process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL;
    try {
      const error = missingAssetsBucket(
        Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' }),
        { envId: 'dev', account: '222222222222', region: 'eu-west-1' },
        'sdlf deploy --env dev',
        'sdlf bootstrap --env dev',
      );
      expect(error).toMatchObject({ code: 'ASSETS_BUCKET_MISSING' });
      expect(error?.message).toBe(
        'The CDK assets bucket cdk-hnb659fds-assets-222222222222-eu-west-1 of aws://222222222222/eu-west-1 does not exist, although its bootstrap stack CDKToolkit does: the bucket was deleted outside the stack. Nothing was deployed.',
      );
      expect(String(error?.suggestions)).toContain('aws cloudformation delete-stack --stack-name CDKToolkit --region eu-west-1');
      expect(missingAssetsBucket(new Error('other'), { envId: 'dev', account: '1', region: 'r' }, 'x', 'y')).toBeUndefined();
    } finally {
      if (previous !== undefined) process.env.AWS_ENDPOINT_URL = previous;
    }
  });
});
