import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CloudAssembly, CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { expect } from 'vitest';
import type { BuildAppOptions } from '../../src/app/build-app.js';
import { DEFAULT_HANDLERS_DIR } from '../../src/bundling/index.js';
import { ensureBuilt } from '../helpers/cli.js';
import { ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';

/**
 * A private copy of the package's handler bundles (`dist/handlers`), taken under the build lock: the tests use the
 * real bundles, and a concurrent `npm run build` (which empties dist/) cannot pull them away mid-test.
 */
export const HANDLERS_DIR = (() => {
  ensureBuilt();
  const dir = join(tempDir('sdlf-handlers-'), 'handlers');
  execFileSync('flock', ['/tmp/sdlf-build.lock', 'cp', '-r', DEFAULT_HANDLERS_DIR, dir]);
  return dir;
})();

/** Options of buildApp for tests: the real handler bundles, no WASM template validation (one test keeps it). */
export function testBuildOptions(extra: BuildAppOptions = {}): BuildAppOptions {
  return {
    handlersDir: HANDLERS_DIR,
    validation: false,
    bundleCacheDir: join(tempDir('sdlf-bundles-'), 'cache'),
    ...extra,
  };
}

/** One dataset entry of parameters.json. */
export interface DatasetEntry {
  team: string;
  dataset: string;
  pipeline?: string;
  stage_a_transform?: string;
  stage_b_transform?: string;
}

/** Writes a project with the given datasets, their transforms and Glue scripts; returns its root. */
export function writeProject(
  datasets: Record<string, DatasetEntry[]>,
  options: { ddk?: Record<string, unknown>; files?: Record<string, string>; dir?: string } = {},
): string {
  const dir = options.dir ?? tempDir('sdlf-app-');
  writeJsonFiles(dir, { 'ddk.json': options.ddk ?? ddkJson(), 'parameters.json': datasets });
  const files: Record<string, string> = { ...options.files };
  for (const entry of Object.values(datasets).flat()) {
    const light = entry.stage_a_transform ?? 'sdlf_light_transform';
    const heavy = entry.stage_b_transform ?? 'sdlf_heavy_transform';
    files[`transforms/light/${light}.ts`] ??= LIGHT_TRANSFORM;
    files[`transforms/heavy/${heavy}/main.py`] ??= 'print("heavy transform")\n';
    files[`transforms/heavy/${heavy}/transform.sql`] ??= 'create table t as select * from staged;\n';
  }
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), contents);
  }
  return dir;
}

/** A light transform as a project would write it. */
export const LIGHT_TRANSFORM = `import type { LightTransform } from 'sdlf/transform';

const transform: LightTransform = async function* (input, context) {
  yield { table: context.dataset.replaceAll('-', '_'), record: { key: input.key } };
};
export default transform;
`;

/** A bare stack for construct tests, with an account and region, no template validation. */
export function testStack(id = 'TestStack'): Stack {
  const app = new App({ builtinCloudFormationValidation: false, analyticsReporting: false });
  return new Stack(app, id, { env: { account: '222222222222', region: 'us-east-1' } });
}

/** A synthesized template: its resources by logical id. */
export interface TemplateJson {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;
  Outputs?: Record<string, { Export?: unknown }>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
}

/**
 * Synthesizes an app and asserts that cdk-nag (AwsSolutionsChecks, attached by buildApp) reported zero
 * unacknowledged findings for every stack; returns the assembly.
 */
export function synthNagClean(app: App): CloudAssembly {
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{ violations?: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath?: string }> }> }>;
  };
  const findings = report.pluginReports.flatMap((plugin) =>
    (plugin.violations ?? []).flatMap((v) => v.violatingConstructs.map((r) => `${v.ruleName} at ${r.constructPath}`)),
  );
  expect(findings).toEqual([]);
  return assembly;
}

/** Every stack of an assembly, including those of nested (CI/CD stage) assemblies. */
export function allStackArtifacts(assembly: CloudAssembly): CloudFormationStackArtifact[] {
  return [...assembly.stacks, ...assembly.nestedAssemblies.flatMap((nested) => allStackArtifacts(nested.nestedAssembly))];
}

/** The template of a stack artifact. */
export function templateOf(stack: CloudFormationStackArtifact): TemplateJson {
  return stack.template as TemplateJson;
}

const NAME_KEYS = [
  'BucketName',
  'TableName',
  'FunctionName',
  'RoleName',
  'QueueName',
  'StateMachineName',
  'TopicName',
  'AliasName',
  'LogGroupName',
  'JobName',
];

/** Every explicit physical name in a template's resources, as `Type name` (names are unique per resource type). */
export function physicalNames(resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>): string[] {
  const names: string[] = [];
  for (const resource of Object.values(resources)) {
    const props = resource.Properties ?? {};
    for (const key of NAME_KEYS) if (typeof props[key] === 'string') names.push(`${resource.Type} ${props[key]}`);
    if (
      ['AWS::SSM::Parameter', 'AWS::Events::Rule', 'AWS::Glue::SecurityConfiguration', 'AWS::Glue::Job'].includes(
        resource.Type,
      ) &&
      typeof props.Name === 'string'
    ) {
      names.push(`${resource.Type} ${props.Name}`);
    }
    const database = (props.DatabaseInput as { Name?: string } | undefined)?.Name;
    if (resource.Type === 'AWS::Glue::Database' && database) names.push(`${resource.Type} ${database}`);
  }
  return names;
}

/** An IAM statement as a template holds it. */
export type StatementJson = Record<string, unknown>;

/**
 * The identity-policy statements of a template: those of its `AWS::IAM::Policy` resources and of its roles'
 * inline policies (`Policies`), each with the logical id of the role or policy that holds it.
 */
export function identityStatements(
  resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>,
): Array<{ holder: string; statement: StatementJson }> {
  const documents = Object.entries(resources).flatMap(([id, resource]) => {
    if (resource.Type === 'AWS::IAM::Policy') return [[id, resource.Properties?.PolicyDocument] as const];
    if (resource.Type !== 'AWS::IAM::Role') return [];
    const policies = (resource.Properties?.Policies ?? []) as Array<{ PolicyDocument: unknown }>;
    return policies.map((policy) => [id, policy.PolicyDocument] as const);
  });
  return documents.flatMap(([holder, document]) =>
    ((document as { Statement?: StatementJson[] } | undefined)?.Statement ?? []).map((statement) => ({ holder, statement })),
  );
}
