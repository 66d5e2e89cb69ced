import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnOutput, Stack, Tags, Validations } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { bundleLightTransform, handlerAssetDir } from '../bundling/index.js';
import { locateProblems } from '../config/locate.js';
import type { DatasetConfig, DeploymentEnvironment, Project } from '../config/model.js';
import { Naming, SDLF_TAG_KEYS, uniquePipelines } from '../config/naming.js';
import { projectPaths } from '../config/paths.js';
import { CicdPipelineStack } from '../constructs/cicd-pipeline-stack.js';
import { Foundations, KMS_STRATEGY_CONTEXT } from '../constructs/foundations.js';
import type { Pipeline, PipelineContext } from '../constructs/pipeline.js';
import { dataRemovalPolicy } from '../constructs/settings.js';
import { type Problem, SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { didYouMean } from '../core/suggest.js';
import { METADATA_KEY_LAYOUT } from '../runtime/contract.js';
import { glueScriptOf } from '../runtime/glue/runner.js';
import { loadPipelineTypes } from './load-pipelines.js';
import type { PipelineTypeRegistry } from './registry.js';

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /** Folder the cloud assembly is written to. @default `CDK_OUTDIR`, else a temporary folder (CDK's default) */
  readonly outdir?: string;
  /** Builds only this deployment environment. @default every environment of `ddk.json` */
  readonly env?: string;
  /**
   * Wraps the environments in the CI/CD pipeline stack (one stage each) instead of top-level stacks.
   * @default `environments.cicd.cicd_enabled` of `ddk.json`
   */
  readonly cicd?: boolean;
  /** Extra context (e.g. from the toolkit); `CDK_CONTEXT_JSON` is read too. @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Runs aws-cdk-lib's built-in CloudFormation validation (~1.7 s). @default CDK's default (on unless `CDK_VALIDATION=false`) */
  readonly validation?: boolean;
  /** Runs cdk-nag `AwsSolutionsChecks`; an unacknowledged finding fails the synth. @default true */
  readonly nag?: boolean;
  /** Folder of the prebuilt handler bundles. @default the package's `dist/handlers` */
  readonly handlersDir?: string;
  /** Pipeline types to use. @default the built-ins plus the project's `pipelines/*.ts` */
  readonly registry?: PipelineTypeRegistry;
  /** Entry of the light-transform handler to bundle with user transforms. @default the package's handler */
  readonly lightTransformHandler?: string;
  /** Cache folder of light-transform bundles. @default `<tmpdir>/sdlf-bundles` */
  readonly bundleCacheDir?: string;
  /** Where progress goes. @default silent */
  readonly io?: Io;
}

/** The stacks of one environment, as {@link addEnvironmentStacks} created them. */
export interface EnvironmentStacks {
  readonly foundations: Stack;
  /** Pipeline stacks by `team/pipeline`. */
  readonly pipelines: ReadonlyMap<string, Stack>;
  /** Dataset stacks by `team/dataset`. */
  readonly datasets: ReadonlyMap<string, Stack>;
}

/**
 * Builds the CDK app of a project: per environment a foundations stack, a stack per team × pipeline type and a
 * stack per dataset (wrapped in the CI/CD pipeline stack when CI/CD is on), with cdk-nag attached. Bundles the
 * light transforms and loads the custom pipeline types first, so it is async; call `synth()` on the result.
 */
export async function buildApp(project: Project, options: BuildAppOptions = {}): Promise<App> {
  const environments = selectEnvironments(project, options.env);
  const problems = checkLightTransforms(project, environments);
  if (problems.length > 0) {
    throw SdlfError.fromProblems(
      `The project at ${project.root} has ${problems.length} problem(s):`,
      locateProblems(project.root, problems),
    );
  }
  const registry = options.registry ?? (await loadPipelineTypes(project));
  const bundles = await bundleTransforms(project, environments, options);

  const app = new App({
    outdir: options.outdir,
    context: { ...options.context },
    builtinCloudFormationValidation: options.validation,
    analyticsReporting: false,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stackOptions: AddEnvironmentOptions = { project, registry, bundles, handlersDir: options.handlersDir };
  if (options.cicd ?? project.cicd.enabled) {
    const stackName = Naming.cicdStack(project.cicd.resourcePrefix);
    const cicd = new CicdPipelineStack(app, stackName, {
      stackName,
      description: `sdlf CI/CD pipeline of ${project.cicd.resourcePrefix}`,
      cicd: project.cicd,
      environments,
      addEnvironment: (stage, environment) => addEnvironmentStacks(stage, environment, stackOptions),
    });
    for (const [key, value] of Object.entries(project.cicd.tags)) Tags.of(cicd).add(key, value);
    Tags.of(cicd).add(SDLF_TAG_KEYS.project, project.cicd.resourcePrefix);
    if (project.projectId !== undefined) Tags.of(cicd).add(SDLF_TAG_KEYS.projectId, project.projectId);
  } else {
    for (const environment of environments) addEnvironmentStacks(app, environment, stackOptions);
  }
  return app;
}

/** Returns the environments to build; throws when `env` names none of them. */
export function selectEnvironments(project: Project, env: string | undefined): readonly DeploymentEnvironment[] {
  if (env === undefined) return project.environments;
  const found = project.environments.find((e) => e.id === env);
  if (found) return [found];
  const ids = project.environments.map((e) => e.id);
  throw new SdlfError(`Environment "${env}" is not in ddk.json; ${didYouMean(env, ids)}`, {
    code: 'UNKNOWN_ENVIRONMENT',
    suggestions: [`Use --env with one of ${ids.join(', ')}, or add "${env}" to environments in ddk.json.`],
  });
}

/** What {@link addEnvironmentStacks} needs besides the environment. */
export interface AddEnvironmentOptions {
  readonly project: Project;
  readonly registry: PipelineTypeRegistry;
  /** Folder of each light transform's bundle, by transform name. */
  readonly bundles: ReadonlyMap<string, string>;
  readonly handlersDir?: string;
}

/**
 * Adds the stacks of one environment under `scope` (the app, or a CI/CD stage): foundations, then one stack per
 * team × pipeline type, then one per dataset. Stacks find each other through SSM parameters and names; stack
 * dependencies only order the deployment.
 */
export function addEnvironmentStacks(
  scope: Construct,
  environment: DeploymentEnvironment,
  options: AddEnvironmentOptions,
): EnvironmentStacks {
  const { project, registry, bundles } = options;
  const naming = Naming.forEnvironment(environment);
  const env = { account: environment.account, region: environment.region };
  const datasets: readonly DatasetConfig[] = project.datasets[environment.id] ?? [];
  const newStack = (name: string, description: string, tags: Record<string, string>) => {
    // A stack's construct id is its name: that is what `cdk deploy <stack>` and the assembly's artifact ids use.
    const stack = new Stack(scope, name, { stackName: name, env, description });
    stack.node.setContext(KMS_STRATEGY_CONTEXT, environment.kmsStrategy);
    const all = {
      ...environment.tags,
      [SDLF_TAG_KEYS.project]: environment.resourcePrefix,
      ...(project.projectId === undefined ? {} : { [SDLF_TAG_KEYS.projectId]: project.projectId }),
      [SDLF_TAG_KEYS.environment]: environment.id,
      ...tags,
    };
    for (const [key, value] of Object.entries(all)) Tags.of(stack).add(key, value);
    return stack;
  };

  const foundations = newStack(
    naming.foundationsStack(),
    `sdlf foundations of ${environment.resourcePrefix}-${environment.id}`,
    {},
  );
  new Foundations(foundations, 'Foundations', {
    naming,
    removalPolicy: dataRemovalPolicy(environment),
    kmsStrategy: environment.kmsStrategy,
    notificationEmail: environment.notificationEmail,
  });

  const pipelineStacks = new Map<string, Stack>();
  const pipelines = new Map<string, Pipeline>();
  for (const { team, pipeline } of uniquePipelines(datasets)) {
    const type = registry.get(pipeline);
    const stack = newStack(naming.pipelineStack(team, pipeline), `sdlf ${pipeline} pipeline of team ${team}`, {
      [SDLF_TAG_KEYS.team]: team,
    });
    stack.addStackDependency(foundations);
    new CfnOutput(stack, METADATA_KEY_LAYOUT.output, {
      value: METADATA_KEY_LAYOUT.value,
      description:
        "The metadata key layout of this stack's runtime ({team}/…): sdlf deploy reads it to know whether items need moving.",
    });
    const context: PipelineContext = {
      environment,
      naming,
      team,
      pipeline,
      handlerCode: (name) => Code.fromAsset(handlerAssetDir(name, options.handlersDir)),
    };
    pipelines.set(`${team}/${pipeline}`, type.create(stack, context));
    pipelineStacks.set(`${team}/${pipeline}`, stack);
  }

  const datasetStacks = new Map<string, Stack>();
  for (const config of datasets) {
    const key = `${config.team}/${config.pipeline}`;
    const pipeline = pipelines.get(key);
    const pipelineStack = pipelineStacks.get(key);
    const bundle = bundles.get(config.stageATransform);
    if (!pipeline || !pipelineStack || !bundle) throw new Error(`unreachable: ${key} or its bundle was not built`);
    const stack = newStack(naming.datasetStack(config.team, config.dataset), `sdlf dataset ${config.team}/${config.dataset}`, {
      [SDLF_TAG_KEYS.team]: config.team,
      [SDLF_TAG_KEYS.dataset]: config.dataset,
    });
    stack.addStackDependency(pipelineStack);
    pipeline.registerDataset(stack, config.dataset, {
      config,
      lightTransformCode: Code.fromAsset(bundle),
      heavyTransformDir: join(project.root, projectPaths.heavyTransformDir(config.stageBTransform)),
      heavyTransformScript: glueScriptOf(join(project.root, projectPaths.heavyTransformDir(config.stageBTransform))).path,
    });
    datasetStacks.set(`${config.team}/${config.dataset}`, stack);
  }
  return { foundations, pipelines: pipelineStacks, datasets: datasetStacks };
}

/**
 * Lists the datasets whose light transform file is missing. (A Glue script is needed only by pipelines with a
 * stage B, so the construct that uses it checks it.)
 */
export function checkLightTransforms(project: Project, environments: readonly DeploymentEnvironment[]): Problem[] {
  const problems: Problem[] = [];
  const reported = new Set<string>();
  for (const environment of environments) {
    for (const d of project.datasets[environment.id] ?? []) {
      const file = projectPaths.lightTransform(d.stageATransform);
      if (reported.has(file) || existsSync(join(project.root, file))) continue;
      reported.add(file);
      problems.push({
        code: 'MISSING_TRANSFORM',
        file: project.parametersFile,
        path: environment.id,
        message: `Dataset "${d.team}/${d.dataset}" needs ${file}, which does not exist.`,
        suggestion: `Create ${file}, or scaffold it with "sdlf add-dataset --team ${d.team} --dataset ${d.dataset} --pipeline ${d.pipeline} --force".`,
      });
    }
  }
  return problems;
}

async function bundleTransforms(
  project: Project,
  environments: readonly DeploymentEnvironment[],
  options: BuildAppOptions,
): Promise<Map<string, string>> {
  const names = [
    ...new Set(environments.flatMap((environment) => (project.datasets[environment.id] ?? []).map((d) => d.stageATransform))),
  ].sort();
  const bundles = new Map<string, string>();
  for (const transform of names) {
    options.io?.debug(`bundling ${projectPaths.lightTransform(transform)}`);
    bundles.set(
      transform,
      await bundleLightTransform({
        projectRoot: project.root,
        transform,
        handlerEntry: options.lightTransformHandler,
        cacheDir: options.bundleCacheDir,
      }),
    );
  }
  return bundles;
}

/** Lists every stack of an app, including those inside CI/CD stages. */
export function allStacks(app: App): Stack[] {
  return app.node.findAll().filter((node): node is Stack => Stack.isStack(node));
}
