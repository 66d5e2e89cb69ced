import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { cdkJsonContext } from '../config/cdk-json.js';
import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { Naming } from '../config/naming.js';
import { swapDirectory } from '../core/atomic.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';

/** Options of {@link synthProject}. */
export interface SynthProjectOptions {
  /** Project root. */
  readonly root: string;
  /** Synthesizes only this environment. @default every environment */
  readonly env?: string;
  /** Where the cloud assembly goes, relative to the root. @default 'cdk.out' */
  readonly output?: string;
  /**
   * Runs aws-cdk-lib's built-in CloudFormation validation as well as cdk-nag. Off by default: it costs seconds per
   * synth (BENCHMARKS.md, Synth) and the built-in constructs are validated by the test suite. @default false
   */
  readonly validation?: boolean;
}

/** What a stack is for. */
export type StackKind = 'foundations' | 'pipeline' | 'dataset' | 'cicd';

/** One synthesized stack. */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly kind: StackKind;
  /** Deployment environment id (`dev`), or `cicd`. */
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  /** Number of CloudFormation resources in the template. */
  readonly resources: number;
  /** Template file, relative to the output folder. */
  readonly templateFile: string;
}

/** What {@link synthProject} produced. */
export interface SynthProjectResult {
  readonly root: string;
  /** Absolute path of the cloud assembly. */
  readonly outdir: string;
  readonly stacks: readonly SynthesizedStack[];
  /** Whether the environments are wrapped in the CI/CD pipeline. */
  readonly cicd: boolean;
  readonly durationMs: number;
}

/**
 * Builds the project's CDK app (bundling light transforms, loading custom pipeline types), runs cdk-nag and
 * writes the cloud assembly. The assembly is written beside the output folder and swapped in only when the synth
 * succeeded, so a failed synth leaves the previous `cdk.out` as it was.
 */
export async function synthProject(options: SynthProjectOptions, io: Io): Promise<SynthProjectResult> {
  const started = Date.now();
  const project = await loadProject(options.root);
  for (const warning of project.warnings) io.warn(warning);
  const outdir = resolve(project.root, options.output ?? 'cdk.out');
  const staging = join(dirname(outdir), `.${basename(outdir)}.sdlf-${randomBytes(4).toString('hex')}`);
  io.info(`Building the app of ${project.root}${options.env ? ` (environment ${options.env})` : ''}…`);
  const { buildApp } = await import('../app/index.js');
  try {
    // cdk.json's context (the feature flags init writes), as plain `cdk synth` and `sdlf deploy` apply it.
    const context = await cdkJsonContext(project.root);
    const app = await buildApp(project, {
      outdir: staging,
      env: options.env,
      validation: options.validation ?? false,
      io,
      context,
    });
    io.info('Synthesizing and running cdk-nag (AwsSolutions)…');
    let assembly: ReturnType<typeof app.synth>;
    try {
      assembly = app.synth();
    } catch (error) {
      throw nagError(staging) ?? error;
    }
    const stacks = collectStacks(assembly, project);
    checkNoExports(assembly);
    await swapDirectory(staging, outdir);
    io.info(`Wrote ${stacks.length} stack(s) to ${outdir}`);
    return { root: project.root, outdir, stacks, cicd: stacks.some((s) => s.kind === 'cicd'), durationMs: Date.now() - started };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

type Assembly = {
  readonly stacks: ReadonlyArray<{
    readonly stackName: string;
    readonly templateFile: string;
    readonly template: { Resources?: Record<string, unknown>; Outputs?: Record<string, { Export?: unknown }> };
    readonly environment: { account: string; region: string };
  }>;
  readonly nestedAssemblies: ReadonlyArray<{ readonly nestedAssembly: Assembly; readonly directoryName: string }>;
};

function flatten(assembly: Assembly, prefix = ''): Array<{ stack: Assembly['stacks'][number]; dir: string }> {
  return [
    ...assembly.stacks.map((stack) => ({ stack, dir: prefix })),
    ...assembly.nestedAssemblies.flatMap((nested) => flatten(nested.nestedAssembly, `${prefix}${nested.directoryName}/`)),
  ];
}

function collectStacks(assembly: Assembly, project: Project): SynthesizedStack[] {
  const cicdName = Naming.cicdStack(project.cicd.resourcePrefix);
  const kinds = new Map<string, { kind: StackKind; environment: string }>();
  for (const environment of project.environments) {
    const naming = Naming.forEnvironment(environment);
    const datasets = project.datasets[environment.id] ?? [];
    kinds.set(naming.foundationsStack(), { kind: 'foundations', environment: environment.id });
    for (const d of datasets) {
      kinds.set(naming.pipelineStack(d.team, d.pipeline), { kind: 'pipeline', environment: environment.id });
      kinds.set(naming.datasetStack(d.team, d.dataset), { kind: 'dataset', environment: environment.id });
    }
  }
  return flatten(assembly).map(({ stack, dir }) => {
    // The pipeline stack, and the support stacks CDK Pipelines adds for environments in other regions.
    const known = stack.stackName.startsWith(cicdName)
      ? { kind: 'cicd' as const, environment: 'cicd' }
      : kinds.get(stack.stackName);
    if (!known) throw new Error(`unreachable: stack ${stack.stackName} is not one sdlf creates`);
    return {
      stackName: stack.stackName,
      ...known,
      account: stack.environment.account,
      region: stack.environment.region,
      resources: Object.keys(stack.template.Resources ?? {}).length,
      templateFile: `${dir}${stack.templateFile}`,
    };
  });
}

/** A custom pipeline that hands a pipeline-stack object to a dataset stack makes CDK export it: refuse that. */
function checkNoExports(assembly: Assembly): void {
  const exporting = flatten(assembly)
    .filter(({ stack }) => Object.values(stack.template.Outputs ?? {}).some((output) => output.Export !== undefined))
    .map(({ stack }) => stack.stackName);
  if (exporting.length === 0) return;
  throw new SdlfError(
    `Stack(s) ${exporting.join(', ')} export values to other stacks; sdlf stacks must refer to each other by name or SSM parameter.`,
    {
      code: 'CROSS_STACK_REFERENCE',
      suggestions: [
        'In a custom pipeline, do not pass constructs of the pipeline stack to registerDataset: import them by name (e.g. Function.fromFunctionAttributes with a name from context.naming).',
      ],
    },
  );
}

/** Turns cdk-nag findings of a failed synth into an {@link SdlfError} listing them. */
function nagError(staging: string): SdlfError | undefined {
  const file = join(staging, 'validation-report.json');
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    pluginReports?: Array<{
      violations?: Array<{ ruleName: string; description?: string; violatingConstructs: Array<{ constructPath?: string }> }>;
    }>;
  };
  const findings = (report.pluginReports ?? []).flatMap((plugin) =>
    (plugin.violations ?? []).flatMap((v) =>
      v.violatingConstructs.map((r) => `${v.ruleName} at ${r.constructPath ?? '?'}: ${v.description ?? ''}`),
    ),
  );
  if (findings.length === 0) return undefined;
  const shown = findings.slice(0, 20).map((f) => `  - ${f}`);
  if (findings.length > shown.length) shown.push(`  … and ${findings.length - shown.length} more`);
  return new SdlfError(`cdk-nag found ${findings.length} problem(s):\n${shown.join('\n')}`, {
    code: 'NAG_FINDINGS',
    suggestions: [
      'Fix the resource, or acknowledge one finding on one construct with a reason: Validations.of(construct).acknowledge({ id, reason }) (acknowledge() from "sdlf/constructs").',
    ],
  });
}
