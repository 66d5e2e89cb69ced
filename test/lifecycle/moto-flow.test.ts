import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { Naming } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deployProject } from '../../src/services/deploy.js';
import { showStatus } from '../../src/services/status.js';
import { uploadData } from '../../src/services/upload.js';
import { initDemoProject, useMoto } from './moto.js';

// The demo project that `sdlf init` writes, deployed with `sdlf deploy --direct` to moto_server, processing the
// sample data that `sdlf upload` sends: S3 → EventBridge → routing → stage A queue → stage A trigger → the stage A
// state machine → step and light transform functions, all as deployed (the functions run their deployed code in
// the local Lambda runtime of test/global-setup.ts; see test/moto/server.py for what the launcher adds to moto).
// Stage B stops at its queue: moto does not create the Glue job from the template (the stage B state machine and
// the Glue runner run in test/runtime/aws/state-machine.integration.test.ts).
const region = 'ap-south-1';
const team = 'demoteam';
const dataset = 'legislators';

describe('the deployed demo project on moto_server', () => {
  let root: string;
  let naming: Naming;

  beforeAll(async () => {
    useMoto();
    root = await initDemoProject({ region, prefix: 'flow' });
    const [environment] = (await loadProject(root)).environments;
    if (!environment) throw new Error('the demo project has no environment');
    naming = Naming.forEnvironment(environment);
    await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    await deployProject(
      { root, env: 'dev', direct: true, requireApproval: 'never', pollingIntervalMs: 100 },
      createRecordingIo(),
    );
  }, 240_000);

  it('runs stage A for every uploaded file and hands the staged objects to stage B', async () => {
    // When the sample data is uploaded
    const uploaded = await uploadData({ root, env: 'dev', team, dataset }, createRecordingIo());
    expect(uploaded.objects).toHaveLength(4);

    // Then each file's stage A execution succeeds, as sdlf status reports it
    const deadline = Date.now() + 90_000;
    let executions: Array<{ stage: string; status: string; source: string; outputs: readonly { table: string }[] }> = [];
    while (Date.now() < deadline) {
      const status = await showStatus({ root, env: 'dev', team, dataset }, createRecordingIo());
      executions = [...(status.datasets[0]?.executions ?? [])];
      if (executions.length === 4 && executions.every((e) => e.status === 'SUCCEEDED' || e.status === 'FAILED')) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(executions.map((e) => [e.stage, e.status]).sort()).toEqual([
      ['a', 'SUCCEEDED'],
      ['a', 'SUCCEEDED'],
      ['a', 'SUCCEEDED'],
      ['a', 'SUCCEEDED'],
    ]);
    const tables = executions.flatMap((e) => e.outputs.map((o) => o.table)).sort();
    expect(tables).toEqual(['memberships', 'organizations', 'persons', 'regions']);

    // And the staged objects are in the stage bucket, one stage B message each
    const staged = await new S3Client({ region, forcePathStyle: true }).send(
      new ListObjectsV2Command({ Bucket: naming.bucket('stage'), Prefix: `${team}/${dataset}/` }),
    );
    expect(staged.Contents?.length).toBe(4);
    const sqs = new SQSClient({ region });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: naming.stageBQueue(team, dataset) }));
    const depth = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(Number(depth.Attributes?.ApproximateNumberOfMessages)).toBe(4);
  }, 120_000);
});
