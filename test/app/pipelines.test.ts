import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { buildApp, loadPipelineTypes, PipelineTypeRegistry } from '../../src/app/index.js';
import { loadProject } from '../../src/config/load.js';
import { isSdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { validateProject } from '../../src/services/validate-project.js';
import { repoRoot, tempDir } from '../helpers/project.js';
import { allStackArtifacts, synthNagClean, templateOf, testBuildOptions, writeProject } from './helpers.js';

/** The module `sdlf add-pipeline fast` writes. */
const scaffolded = readFileSync(join(repoRoot, 'src', 'templates', 'pipeline', 'pipelines', '{{name}}.ts.hbs'), 'utf8')
  .replaceAll('{{name}}', 'fast')
  .replace('{{json description}}', JSON.stringify('fast lane'));

function stackNamed(stacks: readonly CloudFormationStackArtifact[], name: string): CloudFormationStackArtifact {
  const found = stacks.find((s) => s.stackName === name);
  if (!found) throw new Error(`no stack ${name} in ${stacks.map((s) => s.stackName).join(', ')}`);
  return found;
}

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
  return error;
}

describe('PipelineTypeRegistry', () => {
  it('holds the built-in standard and custom types', () => {
    const registry = PipelineTypeRegistry.withBuiltIns();
    expect(registry.names()).toEqual(['standard', 'custom']);
    expect(registry.list().map((t) => t.source)).toEqual(['built-in', 'built-in']);
  });

  it.each([
    ['a non-object', 42, 'expected an object, got number'],
    ['a missing name', { create: () => undefined }, '"pipelineType" must be a string'],
    ['an invalid name', { pipelineType: 'Fast Lane', create: () => undefined }, '"pipelineType" is "Fast Lane"'],
    ['a missing create', { pipelineType: 'fast' }, '"create" must be a function'],
    [
      'a stageB that is not a boolean',
      { pipelineType: 'fast', create: () => undefined, stageB: 'no' },
      '"stageB" must be true or false',
    ],
  ])('throws INVALID_PIPELINE_TYPE for %s', (_case, value, message) => {
    const registry = PipelineTypeRegistry.withBuiltIns();
    expect(() => registry.register(value, 'pipelines/fast.ts')).toThrow(message);
  });

  it('tells which types have a stage B: standard and, by default, user types; not custom', () => {
    const registry = PipelineTypeRegistry.withBuiltIns();
    registry.register({ pipelineType: 'fast', create: () => undefined }, 'pipelines/fast.ts');
    registry.register({ pipelineType: 'lean', create: () => undefined, stageB: false }, 'pipelines/lean.ts');
    expect(['standard', 'custom', 'fast', 'lean'].map((name) => registry.hasStageB(name))).toEqual([true, false, true, false]);
  });

  it('throws DUPLICATE_PIPELINE when a type name is taken, and UNKNOWN_PIPELINE with the nearest name', () => {
    const registry = PipelineTypeRegistry.withBuiltIns();
    expect(() => registry.register({ pipelineType: 'standard', create: () => undefined }, 'pipelines/standard.ts')).toThrow(
      'already defined by built-in',
    );
    expect(() => registry.get('standrd')).toThrow('did you mean "standard"?');
  });
});

describe('custom pipeline types', { timeout: 240_000 }, () => {
  it('loads pipelines/<name>.ts from the project and synthesizes its datasets, cdk-nag clean', async () => {
    // Given the module add-pipeline scaffolds, and a dataset registered to it
    const root = writeProject(
      { dev: [{ team: 'sales', dataset: 'orders', pipeline: 'fast' }] },
      { files: { 'pipelines/fast.ts': scaffolded } },
    );
    const project = await loadProject(root);
    // When the app is built
    const registry = await loadPipelineTypes(project, { cacheDir: tempDir() });
    expect(registry.list().at(-1)).toMatchObject({
      source: 'pipelines/fast.ts',
      type: { pipelineType: 'fast', description: 'fast lane' },
    });
    const app = await buildApp(project, testBuildOptions({ registry, outdir: tempDir() }));
    const stacks = allStackArtifacts(synthNagClean(app));
    // Then the team's pipeline and the dataset have their own stacks, stage A only
    expect(stacks.map((s) => s.stackName).sort()).toEqual(['ddk-dev-foundations', 'ddk-dev-sales-fast', 'ddk-dev-sales-orders']);
    const pipeline = templateOf(stackNamed(stacks, 'ddk-dev-sales-fast'));
    const machines = Object.values(pipeline.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines.map((m) => m.Properties?.StateMachineName)).toEqual(['ddk-dev-sales-fast-stage-a']);
    const dataset = templateOf(stackNamed(stacks, 'ddk-dev-sales-orders'));
    expect(Object.values(dataset.Resources).map((r) => r.Type)).toContain('AWS::Events::Rule');
  });

  it('rejects a module whose type name differs from its file name', async () => {
    const root = writeProject(
      { dev: [{ team: 'sales', dataset: 'orders' }] },
      { files: { 'pipelines/fast.ts': scaffolded.replace("pipelineType: 'fast'", "pipelineType: 'quick'") } },
    );
    const error = await rejection(loadPipelineTypes(await loadProject(root), { cacheDir: tempDir() }));
    expect(error.code).toBe('INVALID_PIPELINE_TYPE');
    expect(error.message).toContain('defines pipeline type "quick", but its file name says "fast"');
  });

  it('rejects a module that throws when it is loaded', async () => {
    const root = writeProject(
      { dev: [{ team: 'sales', dataset: 'orders' }] },
      { files: { 'pipelines/fast.ts': "throw new Error('boom');\n" } },
    );
    const error = await rejection(loadPipelineTypes(await loadProject(root), { cacheDir: tempDir() }));
    expect(error.code).toBe('PIPELINE_LOAD_FAILED');
    expect(error.message).toContain('boom');
  });
});

describe('CI/CD', { timeout: 240_000 }, () => {
  const cicdDdk = (extra: Record<string, unknown> = {}) => ({
    environments: {
      cicd: { account: '111111111111', region: 'us-east-1', repository: 'my-lake', cicd_enabled: true, ...extra },
      dev: { account: '222222222222', region: 'us-east-1' },
      prod: { account: '333333333333', region: 'eu-west-1', manual_approvals: true },
    },
  });
  const datasets = [{ team: 'demoteam', dataset: 'legislators' }];

  it('wraps every environment in a stage of the {prefix}-cicd-pipeline stack, approval before prod, cdk-nag clean', async () => {
    const project = await loadProject(writeProject({ dev: datasets, prod: datasets }, { ddk: cicdDdk() }));
    const app = await buildApp(project, testBuildOptions({ outdir: tempDir() }));
    const assembly = synthNagClean(app);
    // The top level holds the pipeline stack in the cicd account (and its support stack for prod's region)
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['ddk-cicd-pipeline', 'ddk-cicd-pipeline-support-eu-west-1']);
    expect(stackNamed(assembly.stacks, 'ddk-cicd-pipeline').environment).toMatchObject({
      account: '111111111111',
      region: 'us-east-1',
    });
    const names = allStackArtifacts(assembly).map((s) => s.stackName);
    expect(names).toEqual(expect.arrayContaining(['ddk-dev-foundations', 'ddk-prod-demoteam-legislators']));
    const pipeline = JSON.stringify(templateOf(stackNamed(assembly.stacks, 'ddk-cicd-pipeline')).Resources);
    expect(pipeline).toContain('"RepositoryName":"my-lake"');
    expect(pipeline).toContain('npm ci');
    expect(pipeline).toContain('npx sdlf synth');
    // One manual approval, before prod only
    expect(pipeline.match(/"Category":"Approval"/g)).toHaveLength(1);
    expect(pipeline).toContain('Approve-prod');
  });

  it('reads the source from a CodeConnections connection when ddk.json configures one', async () => {
    const connection = 'arn:aws:codeconnections:us-east-1:111111111111:connection/abc-123';
    const ddk = cicdDdk({
      source: { provider: 'codeconnections', connection_arn: connection, repository: 'acme/lake', branch: 'trunk' },
    });
    const project = await loadProject(writeProject({ dev: datasets, prod: datasets }, { ddk }));
    const app = await buildApp(project, testBuildOptions({ outdir: tempDir(), env: 'dev' }));
    const assembly = synthNagClean(app);
    const pipeline = JSON.stringify(templateOf(stackNamed(assembly.stacks, 'ddk-cicd-pipeline')).Resources);
    expect(pipeline).toContain('"FullRepositoryId":"acme/lake"');
    expect(pipeline).toContain('"BranchName":"trunk"');
    expect(pipeline).toContain(connection);
    expect(allStackArtifacts(assembly).some((s) => s.stackName.startsWith('ddk-prod-'))).toBe(false);
  });
});

describe('validateProject with custom pipeline types', { timeout: 240_000 }, () => {
  it('accepts a project whose pipelines/*.ts export valid types', async () => {
    const root = writeProject(
      { dev: [{ team: 'sales', dataset: 'orders', pipeline: 'fast' }] },
      { files: { 'pipelines/fast.ts': scaffolded } },
    );
    const result = await validateProject({ root }, createRecordingIo());
    expect(result.pipelineTypes).toEqual(['standard', 'custom', 'fast']);
  });

  it('fails listing each module that does not compile or export a pipeline type', async () => {
    const root = writeProject(
      { dev: [{ team: 'sales', dataset: 'orders' }] },
      { files: { 'pipelines/broken.ts': 'export default {\n', 'pipelines/empty.ts': 'export const x = 1;\n' } },
    );
    const error = await rejection(validateProject({ root }, createRecordingIo()));
    expect(error.problems.map((p) => [p.code, p.file])).toEqual([
      ['PIPELINE_BUILD_FAILED', 'pipelines/broken.ts'],
      ['INVALID_PIPELINE_TYPE', 'pipelines/empty.ts'],
    ]);
  });
});
