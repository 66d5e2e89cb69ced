import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isSdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { synthProject } from '../../src/services/synth.js';
import { repoRoot, tempDir } from '../helpers/project.js';
import { HANDLERS_DIR, writeProject } from './helpers.js';

const DATASETS = { dev: [{ team: 'demoteam', dataset: 'legislators' }] };

/** A pipeline type whose stage A function is handed to the dataset stack as an object. */
const EXPORTING_PIPELINE = `import { Code } from 'aws-cdk-lib/aws-lambda';
import { type Construct, captureDataset, DatasetResources, definePipelineType, SdlfFunction } from 'sdlf/constructs';

export default definePipelineType({
  pipelineType: 'leaky',
  create(scope: Construct, context) {
    const fn = new SdlfFunction(scope, 'Extra', { functionName: 'ddk-dev-extra', code: Code.fromInline('export const handler = async () => 1;') });
    return {
      pipelineType: 'leaky',
      registerDataset(datasetScope: Construct, dataset: string, registration) {
        captureDataset(datasetScope, context, dataset);
        new DatasetResources(datasetScope, 'Dataset', {
          naming: context.naming,
          config: registration.config,
          lightTransformCode: registration.lightTransformCode,
        }).lightTransformFunction.function.addEnvironment('EXTRA_ARN', fn.function.functionArn);
      },
    };
  },
});
`;

/** A pipeline type that adds a bucket cdk-nag rejects (no SSL policy, no access logs). */
const NONCOMPLIANT_PIPELINE = `import { Bucket } from 'aws-cdk-lib/aws-s3';
import { type Construct, definePipelineType } from 'sdlf/constructs';

export default definePipelineType({
  pipelineType: 'sloppy',
  create(scope: Construct) {
    new Bucket(scope, 'Loose');
    return { pipelineType: 'sloppy', registerDataset() {} };
  },
});
`;

async function synthError(root: string) {
  const error = await synthProject({ root, validation: false }, createRecordingIo()).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
  return error;
}

describe('synthProject', { timeout: 240_000 }, () => {
  it('fails with NAG_FINDINGS listing each unacknowledged finding, and writes no cdk.out', async () => {
    const root = writeProject(
      { dev: [{ team: 'demoteam', dataset: 'legislators', pipeline: 'sloppy' }] },
      { files: { 'pipelines/sloppy.ts': NONCOMPLIANT_PIPELINE } },
    );
    const error = await synthError(root);
    expect(error.code).toBe('NAG_FINDINGS');
    expect(error.message).toMatch(/AwsSolutions-S1 at ddk-dev-demoteam-sloppy\/Loose\/Resource/);
    expect(error.message).toContain('AwsSolutions-S10');
    expect(existsSync(join(root, 'cdk.out'))).toBe(false);
  });

  it('fails with CROSS_STACK_REFERENCE when a custom pipeline hands a pipeline-stack object to a dataset stack', async () => {
    const root = writeProject(
      { dev: [{ team: 'demoteam', dataset: 'legislators', pipeline: 'leaky' }] },
      { files: { 'pipelines/leaky.ts': EXPORTING_PIPELINE } },
    );
    const error = await synthError(root);
    expect(error.code).toBe('CROSS_STACK_REFERENCE');
    expect(error.message).toContain('ddk-dev-demoteam-leaky');
  });

  it('fails with NAME_TOO_LONG before building anything when a name exceeds its AWS limit', async () => {
    const root = writeProject({
      dev: [{ team: 'analytics-platform-team', dataset: 'customer-orders-history', pipeline: 'custom' }],
    });
    const error = await synthError(root);
    expect(error.problems.map((p) => p.code)).toContain('NAME_TOO_LONG');
    expect(error.message).toContain('light transform function of analytics-platform-team/customer-orders-history');
    expect(error.message).toContain('AWS allows 64');
  });
});

describe('bin/cdk-app.js', { timeout: 240_000 }, () => {
  it('builds the app of the project in the current folder into CDK_OUTDIR, with CDK_CONTEXT_JSON', async () => {
    // Given a project, as `npx cdk synth` runs the app of its cdk.json
    const root = writeProject(DATASETS);
    const outdir = tempDir('sdlf-cdk-out-');
    const run = await execa('node', [join(repoRoot, 'bin', 'cdk-app.js')], {
      cwd: root,
      reject: false,
      env: {
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ 'sdlf:test': 'yes' }),
        CDK_VALIDATION: 'false',
        CDK_DISABLE_CLI_TELEMETRY: 'true',
      },
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    // Then the assembly holds the same stacks sdlf synth writes
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string }>;
    };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id)
      .sort();
    expect(stacks).toEqual(['ddk-dev-demoteam-legislators', 'ddk-dev-demoteam-standard', 'ddk-dev-foundations']);
    // And the pipeline's four functions are the handler bundles the package ships, copied into the assembly
    const assets = JSON.parse(readFileSync(join(outdir, 'ddk-dev-demoteam-standard.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging: string } }>;
    };
    const bundles = Object.values(assets.files)
      .filter((f) => f.source.packaging === 'zip')
      .map((f) => readFileSync(join(outdir, f.source.path, 'index.mjs'), 'utf8'));
    const shipped = ['routing', 'stage-a-trigger', 'step', 'stage-b-trigger'].map((name) =>
      readFileSync(join(HANDLERS_DIR, name, 'index.mjs'), 'utf8'),
    );
    expect(bundles.sort()).toEqual(shipped.sort());
  });

  it('exits 2 with the message and the fix when the folder is not a project', async () => {
    const run = await execa('node', [join(repoRoot, 'bin', 'cdk-app.js')], {
      cwd: tempDir(),
      reject: false,
      env: { CDK_OUTDIR: tempDir() },
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('is not an sdlf project');
    expect(run.stderr).toContain('sdlf init');
  });
});
