import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { Naming } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { addDataset } from '../../src/services/add-dataset.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deployProject } from '../../src/services/deploy.js';
import { removeDataset } from '../../src/services/remove-dataset.js';
import { ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';
import { initDemoProject, useMoto } from './moto.js';

// `sdlf remove-dataset` then `sdlf deploy --prune` against moto_server: the removed dataset's stack goes only when
// asked, the other stacks and every object in the lake's buckets stay.
const region = 'eu-south-1';
const fast = { pollingIntervalMs: 100, requireApproval: 'never' as const };

describe('removing a deployed dataset', () => {
  let root: string;
  let naming: Naming;
  const cfn = () => new CloudFormationClient({ region });
  const liveStacks = async () =>
    ((await cfn().send(new DescribeStacksCommand({}))).Stacks ?? [])
      .filter((s) => s.StackStatus !== 'DELETE_COMPLETE' && s.StackName?.startsWith('prune-dev-'))
      .map((s) => s.StackName)
      .sort();

  beforeAll(async () => {
    useMoto();
    root = await initDemoProject({ region, prefix: 'prune' });
    const [environment] = (await loadProject(root)).environments;
    if (!environment) throw new Error('the demo project has no environment');
    naming = Naming.forEnvironment(environment);
    await addDataset({ root, team: 'demoteam', dataset: 'orders' }, createRecordingIo());
    await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    await deployProject({ root, env: 'dev', direct: true, ...fast }, createRecordingIo());
  }, 240_000);
  afterAll(() => rmSync(dirname(root), { recursive: true, force: true }));

  it('keeps its stack at a deploy without --prune, and says how to delete it', async () => {
    // Given the deployed orders dataset, with an object in the raw bucket, removed from the project
    expect(await liveStacks()).toContain(naming.datasetStack('demoteam', 'orders'));
    await new S3Client({ region, forcePathStyle: true }).send(
      new PutObjectCommand({ Bucket: naming.bucket('raw'), Key: 'demoteam/orders/2026/orders.json', Body: '[{"id":1}]' }),
    );
    await removeDataset({ root, team: 'demoteam', dataset: 'orders', files: 'keep' }, createRecordingIo());
    // When deploying without --prune
    const io = createRecordingIo();
    const result = await deployProject({ root, env: 'dev', direct: true, ...fast }, io);
    // Then its stack is left and listed, with the command that deletes it
    expect(result.leftover).toEqual([naming.datasetStack('demoteam', 'orders')]);
    expect(result.pruned).toEqual([]);
    expect(result.next).toContain(
      'Delete the stacks of removed datasets and pipelines (their data stays) with "sdlf deploy --env dev --direct --prune": it asks first.',
    );
    expect(io.lines.filter((l) => l.level === 'confirm')).toEqual([]);
    expect(await liveStacks()).toContain(naming.datasetStack('demoteam', 'orders'));
  }, 180_000);

  it('keeps its stack when the --prune question is answered no', async () => {
    const io = createRecordingIo([false]);
    const result = await deployProject({ root, env: 'dev', direct: true, prune: true, ...fast }, io);
    expect(io.lines.filter((l) => l.level === 'confirm').map((l) => l.message)).toEqual([
      `Delete 1 stack(s) of datasets or pipelines no longer in parameters.json (${naming.datasetStack('demoteam', 'orders')})? Their data in the lake's buckets stays.`,
    ]);
    expect(result.leftover).toEqual([naming.datasetStack('demoteam', 'orders')]);
    expect(await liveStacks()).toContain(naming.datasetStack('demoteam', 'orders'));
  }, 180_000);

  it('deletes only its stack with --prune after a yes; the other stacks and its data stay', async () => {
    const before = await liveStacks();
    const result = await deployProject({ root, env: 'dev', direct: true, prune: true, ...fast }, createRecordingIo([true]));
    expect(result.pruned).toEqual([naming.datasetStack('demoteam', 'orders')]);
    expect(result.leftover).toEqual([]);
    expect(await liveStacks()).toEqual(before.filter((name) => name !== naming.datasetStack('demoteam', 'orders')));
    expect(await liveStacks()).toContain(naming.datasetStack('demoteam', 'legislators'));
    const object = await new S3Client({ region, forcePathStyle: true }).send(
      new HeadObjectCommand({ Bucket: naming.bucket('raw'), Key: 'demoteam/orders/2026/orders.json' }),
    );
    expect(object.ContentLength).toBe(10);
  }, 180_000);
});

describe('deploy --prune with CI/CD on', () => {
  it('is refused without --direct before any AWS call, saying the command that does it', async () => {
    const root = tempDir();
    writeJsonFiles(root, {
      'ddk.json': ddkJson({ cicd: { account: '111111111111', region: 'us-east-1', cicd_enabled: true } }),
      'parameters.json': { dev: [{ team: 'sales', dataset: 'orders' }] },
    });
    const error = await deployProject({ root, env: 'dev', prune: true }, createRecordingIo()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PRUNE_NEEDS_DIRECT' });
    expect(String((error as { suggestions: string[] }).suggestions)).toContain('sdlf deploy --env dev --direct --prune');
    rmSync(root, { recursive: true, force: true });
  });
});
