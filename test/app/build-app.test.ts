import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/index.js';
import { loadProject } from '../../src/config/load.js';
import { isSdlfError } from '../../src/core/errors.js';
import { ddkJson, tempDir } from '../helpers/project.js';
import { allStackArtifacts, synthNagClean, templateOf, testBuildOptions, writeProject } from './helpers.js';

const DEFAULT_DATASETS = { dev: [{ team: 'demoteam', dataset: 'legislators' }] };

async function synth(datasets: Parameters<typeof writeProject>[0], options: Parameters<typeof writeProject>[1] = {}, build = {}) {
  const project = await loadProject(writeProject(datasets, options));
  const app = await buildApp(project, testBuildOptions({ outdir: tempDir('sdlf-out-'), ...build }));
  return allStackArtifacts(synthNagClean(app));
}

describe('buildApp', () => {
  it('builds foundations, one stack per team × pipeline and one per dataset, cdk-nag clean', async () => {
    // Given the default project: one team, one standard dataset
    const stacks = await synth(DEFAULT_DATASETS);
    // Then three stacks with the documented names exist and cdk-nag found nothing
    expect(stacks.map((s) => s.stackName).sort()).toEqual([
      'ddk-dev-demoteam-legislators',
      'ddk-dev-demoteam-standard',
      'ddk-dev-foundations',
    ]);
    for (const stack of stacks) expect(stack.environment).toMatchObject({ account: '222222222222', region: 'us-east-1' });
  });

  it('creates no CloudFormation custom resource and no export in any data-lake stack', async () => {
    const stacks = await synth({ dev: [...DEFAULT_DATASETS.dev, { team: 'demoteam', dataset: 'other', pipeline: 'custom' }] });
    const types = new Set(stacks.flatMap((s) => Object.values(templateOf(s).Resources).map((r) => r.Type)));
    // The full inventory of resource types: none is a custom resource
    expect([...types].filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')).toEqual(
      [],
    );
    expect([...types].sort()).toMatchInlineSnapshot(`
      [
        "AWS::CloudWatch::Alarm",
        "AWS::DynamoDB::Table",
        "AWS::Events::Rule",
        "AWS::Glue::Database",
        "AWS::Glue::Job",
        "AWS::Glue::SecurityConfiguration",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::KMS::Key",
        "AWS::LakeFormation::PrincipalPermissions",
        "AWS::LakeFormation::Resource",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::SSM::Parameter",
        "AWS::StepFunctions::StateMachine",
      ]
    `);
    for (const stack of stacks) {
      const template = templateOf(stack);
      expect(Object.values(template.Outputs ?? {}).filter((o) => o.Export)).toEqual([]);
      expect(JSON.stringify(template)).not.toContain('Fn::ImportValue');
    }
  });

  it('throws UNKNOWN_ENVIRONMENT for an environment ddk.json does not have', async () => {
    const project = await loadProject(writeProject(DEFAULT_DATASETS));
    const error = await buildApp(project, testBuildOptions({ env: 'prd' })).catch((e: unknown) => e);
    expect(isSdlfError(error) && error.code).toBe('UNKNOWN_ENVIRONMENT');
    expect((error as Error).message).toContain('"prd"');
  });

  it('throws MISSING_TRANSFORM when a dataset has no light transform file', async () => {
    const root = writeProject(DEFAULT_DATASETS, { ddk: ddkJson() });
    const { rmSync } = await import('node:fs');
    rmSync(`${root}/transforms/light/sdlf_light_transform.ts`);
    const error = await buildApp(await loadProject(root), testBuildOptions()).catch((e: unknown) => e);
    expect(isSdlfError(error) && error.code).toBe('MISSING_TRANSFORM');
    expect((error as Error).message).toContain('transforms/light/sdlf_light_transform.ts');
  });
});
