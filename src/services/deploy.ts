import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IIoHost, IoMessage } from '@aws-cdk/toolkit-lib';
import { GetRepositoryCommand } from '@aws-sdk/client-codecommit';
import type { AwsClients } from '../aws/clients.js';
import { createAwsClients } from '../aws/clients.js';
import { isAwsError } from '../aws/errors.js';
import { assertAccount, getCallerIdentity } from '../aws/identity.js';
import { cdkExecutionRoleArn, isDataLakeAdmin, readDataLakeSettings } from '../aws/lake-formation.js';
import { assertOwnStack, hasOwnProjectId } from '../aws/ownership.js';
import { environmentStackPrefix, environmentStacks } from '../aws/project-stacks.js';
import { type AwsCommandOptions, targetFlags } from '../aws/session.js';
import {
  assertStackUsable,
  BOOTSTRAP_STACK,
  deleteStack,
  describeStack,
  isBusy,
  isUnexecuted,
  listStacks,
  type StackInfo,
} from '../aws/stacks.js';
import { type AwsTarget, CICD_ENVIRONMENT, namingOf, requireDeploymentEnvironment, resolveTarget } from '../aws/target.js';
import { loadProject } from '../config/load.js';
import type { DeploymentEnvironment, PipelineSource, Project } from '../config/model.js';
import { Naming, SDLF_TAG_KEYS } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import { writeFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { detectJsonStyle, parseJson, stringifyJson } from '../core/json.js';
import { pollUntil, type WaitLimits, waitTimeoutError, withDeadline } from '../core/wait.js';
import { type ProjectAppBuilder, projectAssemblySource } from '../toolkit/assembly.js';
import type { RequireApproval } from '../toolkit/io-host.js';
import { createToolkit } from '../toolkit/toolkit.js';
import { type DeployKeyMigration, keyMigrationAroundDeploy } from './deploy-key-migration.js';
import { embeddedApp } from './embedded-app.js';
import { countItems } from './migrate-keys.js';

/** Options of {@link deployProject}. */
export interface DeployProjectOptions extends AwsCommandOptions, WaitLimits {
  /** Deploys the environment's stacks from here even when CI/CD is on. @default false */
  readonly direct?: boolean;
  /** When to ask before deploying changes. @default 'broadening' */
  readonly requireApproval?: RequireApproval;
  /** Replaces the embedded app (tests). @default the package's app, {@link embeddedApp} */
  readonly app?: ProjectAppBuilder;
  /** Replaces the toolkit's IoHost (tests). */
  readonly ioHost?: IIoHost;
  /**
   * Takes over the project's existing stacks that carry no `sdlf:project-id` (deployed before project ids) and tags
   * them with this project's id; a project whose ddk.json has no `project_id` gets a new one written first.
   * Never takes a stack tagged with another project's id. @default false
   */
  readonly adopt?: boolean;
  /**
   * Deletes, after asking, the environment's stacks of datasets and pipelines that are no longer in
   * parameters.json (see `sdlf remove-dataset`); their data in the lake's buckets stays. Without it they are
   * listed and kept. @default false
   */
  readonly prune?: boolean;
}

/** One stack {@link deployProject} deployed. */
export interface DeployedStackResult {
  readonly name: string;
  /** `deployed` when CloudFormation changed it, `unchanged` when its template was already deployed. */
  readonly status: 'deployed' | 'unchanged';
  readonly outputs: Readonly<Record<string, string>>;
}

/** What {@link deployProject} did. */
export interface DeployProjectResult {
  /** `pipeline`: the CI/CD pipeline stack; `direct`: the environment's stacks. */
  readonly mode: 'pipeline' | 'direct';
  readonly env: string;
  readonly account: string;
  readonly region: string;
  readonly stacks: readonly DeployedStackResult[];
  /** Stacks of removed datasets and pipelines that `prune` deleted. */
  readonly pruned: readonly string[];
  /** Stacks of removed datasets and pipelines that are left (without `prune`, or when the answer was no). */
  readonly leftover: readonly string[];
  /** What to do next, for people. */
  readonly next: readonly string[];
  /** The metadata items moved under their team's keys, when a deployed team pipeline ran the legacy keys. */
  readonly keyMigration?: DeployKeyMigration;
}

/**
 * Deploys the project. With CI/CD on (and not `direct`) it deploys the `{prefix}-cicd-pipeline` stack to the cicd
 * account, and the pipeline deploys the environments on each push. Otherwise it deploys the environment's stacks
 * (foundations, pipelines, datasets) in dependency order. A preflight runs before any change: the credentials reach
 * the configured account, the account and region are bootstrapped, (direct) Lake Formation lists the CDK execution
 * role as an admin, and no stack of the project is busy or stuck. A stack that only holds a change set never executed
 * (`REVIEW_IN_PROGRESS`, no resources) is deleted, saying so, and created again.
 */
export async function deployProject(options: DeployProjectOptions, io: Io): Promise<DeployProjectResult> {
  const loaded = await loadProject(options.root);
  const viaPipeline = loaded.cicd.enabled && !options.direct;
  if (viaPipeline && options.prune) throw pruneNeedsDirect(options);
  const run = planDeployRun(loaded, viaPipeline, options, io);
  const { existing, unexecuted } = await preflight(run, loaded);
  const project = await settleProjectId(
    run,
    loaded,
    existing.map((s) => s.name),
  );
  await recreateUnexecutedStacks(run, unexecuted);
  const migration = keyMigrationOf(run, project, existing);
  const copied = await migration?.before();
  const stacks = await deployStacks(run, project);
  const moved = await migration?.after();
  const next = nextSteps(run, project);
  const removed = run.environment ? await removedStacks(run.clients, project, run.environment, run.stackNames) : [];
  const pruned = await pruneRemovedStacks(run, project, removed, next);
  return {
    mode: run.environment ? 'direct' : 'pipeline',
    env: run.target.envId,
    account: run.target.account,
    region: run.target.region,
    stacks,
    pruned,
    leftover: removed.map((s) => s.name).filter((name) => !pruned.includes(name)),
    next,
    ...(copied && moved ? { keyMigration: { copied: countItems(copied), moved: countItems(moved) } } : {}),
  };
}

/** The key migration around a direct deploy whose existing team pipeline stacks run the legacy keys (see {@link keyMigrationAroundDeploy}). */
function keyMigrationOf(run: DeployRun, project: Project, existing: readonly StackInfo[]) {
  const { environment } = run;
  if (!environment) return undefined;
  const naming = namingOf(run.target, environment);
  const pipelineNames = new Set(
    environmentStacks(naming, project.datasets[environment.id] ?? [])
      .filter((s) => s.role === 'pipeline')
      .map((s) => s.name),
  );
  const pipelineStacks = existing.filter((s) => pipelineNames.has(s.name));
  return keyMigrationAroundDeploy({ clients: run.clients, naming, envId: environment.id, pipelineStacks, io: run.io });
}

/** One deployment: where it goes, the stacks it deploys, and the commands its messages suggest. */
interface DeployRun {
  readonly options: DeployProjectOptions;
  readonly io: Io;
  readonly target: AwsTarget;
  /** The environment deployed directly; undefined when the deploy is of the CI/CD pipeline. */
  readonly environment: DeploymentEnvironment | undefined;
  readonly clients: AwsClients;
  readonly stackNames: readonly string[];
  readonly limits: WaitLimits;
  /** The command that runs this deploy again. */
  readonly rerun: string;
  readonly bootstrapCommand: string;
}

function pruneNeedsDirect(options: DeployProjectOptions): SdlfError {
  return new SdlfError(
    '--prune deletes stacks of an environment, and with CI/CD on "sdlf deploy" deploys the CI/CD pipeline, whose runs delete no stacks.',
    {
      code: 'PRUNE_NEEDS_DIRECT',
      suggestions: [
        `Run "sdlf deploy --env ${options.env ?? '<env>'} --direct --prune" to deploy the environment from here and delete those stacks.`,
      ],
    },
  );
}

/** Resolves the target (the cicd account for the pipeline), its clients, the stacks to deploy and the follow-up commands. */
function planDeployRun(project: Project, viaPipeline: boolean, options: DeployProjectOptions, io: Io): DeployRun {
  const target: AwsTarget = viaPipeline
    ? { envId: CICD_ENVIRONMENT, account: project.cicd.account, region: options.region ?? project.cicd.region }
    : resolveTarget(project, { env: options.env, region: options.region });
  const environment = viaPipeline ? undefined : requireDeploymentEnvironment(target, 'deploy');
  const clients = createAwsClients({ region: target.region, profile: options.profile });
  // `--region` deploys elsewhere than ddk.json says: the commands suggested next must name that region too.
  const flags = targetFlags(options, target, environment?.region ?? project.cicd.region);
  const stackNames = environment
    ? environmentStacks(namingOf(target, environment), project.datasets[environment.id] ?? []).map((s) => s.name)
    : [Naming.cicdStack(project.cicd.resourcePrefix)];
  return {
    options,
    io,
    target,
    environment,
    clients,
    stackNames,
    limits: { timeoutMinutes: options.timeoutMinutes, pollingIntervalMs: options.pollingIntervalMs, clock: options.clock },
    rerun: `sdlf deploy --env ${options.env ?? target.envId}${options.direct ? ' --direct' : ''}${flags}`,
    bootstrapCommand: `sdlf bootstrap --env ${target.envId}${flags}`,
  };
}

/**
 * Checks everything before any change: the credentials reach the account, it is bootstrapped, (direct) Lake
 * Formation lists the CDK execution role as an admin, and each existing stack is the project's and usable (a busy
 * one is waited for). Returns the stacks that exist, and those that only hold a change set never executed.
 */
async function preflight(run: DeployRun, project: Project): Promise<{ existing: StackInfo[]; unexecuted: StackInfo[] }> {
  const { clients, target, environment, io } = run;
  io.info(
    `Preflight for ${environment ? `environment "${environment.id}"` : 'the CI/CD pipeline'} in aws://${target.account}/${target.region}…`,
  );
  const identity = await getCallerIdentity(clients);
  assertAccount(identity, target.account, `environment "${target.envId}" in ddk.json`);
  await assertBootstrapped(clients, target, run.bootstrapCommand);
  if (environment) await assertLakeFormationAdmin(clients, target, identity.arn.split(':')[1] ?? 'aws', run.bootstrapCommand);
  else await warnMissingRepository(clients, project.cicd.source, target, io);
  const unexecuted: StackInfo[] = [];
  const prefixPath = environment ? `environments.${environment.id}.resource_prefix` : 'environments.cicd.resource_prefix';
  const existing: StackInfo[] = [];
  for (const name of run.stackNames) {
    const stack = await settledStack(run, name);
    if (!stack) continue;
    assertOwnStack(stack, project, run.options.adopt ?? false, prefixPath);
    if (await isUnexecuted(clients, stack)) {
      unexecuted.push(stack);
      continue;
    }
    existing.push(stack);
    assertStackUsable(stack, target.region);
    if (stack.status === 'ROLLBACK_COMPLETE') {
      io.warn(`Stack ${name} is ROLLBACK_COMPLETE (its creation failed earlier); it will be deleted and created again.`);
    }
  }
  io.info(
    `Preflight passed: credentials for ${identity.account}, bootstrapped${environment ? ', Lake Formation admin in place' : ''}.`,
  );
  return { existing, unexecuted };
}

/** The stack as it is once no other deploy (or the pipeline) is changing it; undefined when it does not exist. */
async function settledStack({ clients, limits, io, rerun }: DeployRun, name: string): Promise<StackInfo | undefined> {
  const stack = await describeStack(clients, name);
  if (!stack || !isBusy(stack.status)) return stack;
  // Another deploy (or the pipeline) is changing it: wait for that to end rather than refuse.
  const what = `stack ${name} to finish ${stack.status}`;
  return pollUntil(
    () => describeStack(clients, name),
    (s) => !s || !isBusy(s.status),
    {
      ...limits,
      what,
      io,
      onTimeout: (last, minutes) =>
        waitTimeoutError({
          what,
          minutes,
          state: [`left: stack ${name} (${last?.status ?? 'gone'})`, 'nothing was deployed'],
          resumeCommand: rerun,
        }),
    },
  );
}

/** Adopts the existing stacks under `--adopt`; otherwise warns when ddk.json has no project id. */
async function settleProjectId(run: DeployRun, project: Project, existing: readonly string[]): Promise<Project> {
  if (run.options.adopt) return adoptProject(project, existing, run.io);
  if (project.projectId === undefined) {
    run.io.warn(
      `ddk.json has no project_id: sdlf cannot tell this project's stacks from another project's with the prefix ${run.environment?.resourcePrefix ?? project.cicd.resourcePrefix}. Run "sdlf deploy --adopt" once to give it one.`,
    );
  }
  return project;
}

/** Deletes the stacks that only hold a change set never executed, so that the deploy creates them again. */
async function recreateUnexecutedStacks(
  { clients, io, limits, rerun }: DeployRun,
  unexecuted: readonly StackInfo[],
): Promise<void> {
  // A change set created and never executed (a refused approval) leaves an empty stack that no wait ever ends.
  for (const stack of unexecuted) {
    io.warn(
      `Stack ${stack.name} is REVIEW_IN_PROGRESS (a change set created and never executed); it holds no resources, so it is deleted and created again.`,
    );
    await deleteStack(clients, stack.name, io, { ...limits, resumeCommand: rerun });
  }
}

/**
 * Synthesizes the embedded app and deploys the run's stacks through toolkit-lib, one at a time by change set, within
 * the wait limits (restarted as each stack finishes). A failure is explained with the stack and the next step.
 */
async function deployStacks(run: DeployRun, project: Project): Promise<DeployedStackResult[]> {
  const { options, io, target, environment, clients, stackNames, rerun } = run;
  const progress = new DeployProgress();
  const loaded = await createToolkit({
    io,
    region: target.region,
    profile: options.profile,
    requireApproval: options.requireApproval,
    ioHost: options.ioHost,
    tap: (message) => progress.record(message),
  });
  const source = await projectAssemblySource(loaded, project, {
    app: options.app ?? embeddedApp(io),
    env: environment?.id,
    cicd: !environment,
  });
  const { toolkit, lib } = loaded;
  const assembly = await toolkit.synth(source, { stacks: { strategy: lib.StackSelectionStrategy.ALL_STACKS } });
  let result: Awaited<ReturnType<typeof toolkit.deploy>>;
  try {
    const available = new Map(assembly.cloudAssembly.stacksRecursively.map((s) => [s.stackName, s.hierarchicalId]));
    const missing = stackNames.filter((name) => !available.has(name));
    if (missing.length > 0) {
      throw new Error(
        `The embedded app did not produce the stacks ${missing.join(', ')}; it produced ${[...available.keys()].join(', ')}.`,
      );
    }
    const what = `the deployment of ${stackNames.join(', ')} (the timeout restarts as each stack finishes)`;
    result = await withDeadline(
      (control) => {
        progress.onStackFinished = control.progress;
        return toolkit.deploy(assembly, {
          stacks: {
            strategy: lib.StackSelectionStrategy.PATTERN_MUST_MATCH,
            patterns: stackNames.map((name) => available.get(name) ?? name),
          },
          deploymentMethod: { method: 'change-set' },
          concurrency: 1,
          stackEventPollingInterval: options.pollingIntervalMs,
        });
      },
      {
        ...run.limits,
        what,
        io,
        onTimeout: async (_last, minutes) =>
          waitTimeoutError({
            what,
            minutes,
            state: await deployState(clients, stackNames, progress.finished),
            resumeCommand: rerun,
          }),
      },
    );
  } catch (error) {
    throw await explainDeployError(run, error, progress.finished);
  } finally {
    await assembly.dispose();
  }
  return result.stacks.map(
    (s): DeployedStackResult => ({
      name: s.stackName,
      status: progress.noOp.has(s.stackName) ? 'unchanged' : 'deployed',
      outputs: s.outputs,
    }),
  );
}

/** Follows the toolkit's messages of a deployment: which stacks finished, and which of them were no-ops. */
class DeployProgress {
  readonly noOp = new Set<string>();
  readonly finished = new Set<string>();
  /** Called as each stack finishes (restarts the deadline). */
  onStackFinished: () => void = () => {};

  /** Records the stack of a CDK_TOOLKIT_I5900 message, which carries its deploy result: noOp and the stack ARN (…:stack/<name>/<id>). */
  record(message: IoMessage<unknown>): void {
    const data = message.data as { noOp?: boolean; stackArn?: string } | undefined;
    const name = data?.stackArn?.split(':stack/')[1]?.split('/')[0];
    if (message.code !== 'CDK_TOOLKIT_I5900' || !name) return;
    this.finished.add(name);
    if (data?.noOp) this.noOp.add(name);
    this.onStackFinished();
  }
}

/** The error a failed deployment ends with: a timeout as it is, a missing assets bucket or failed stack explained. */
async function explainDeployError(run: DeployRun, error: unknown, finished: ReadonlySet<string>): Promise<unknown> {
  if (error instanceof SdlfError && error.code === 'WAIT_TIMEOUT') return error;
  const bucket = missingAssetsBucket(error, run.target, run.rerun, run.bootstrapCommand);
  if (bucket) return bucket;
  const failed = run.stackNames.find((name) => !finished.has(name));
  return (failed && (await explainFailedDeploy(run.clients, failed, error, run.rerun, run.target.region))) ?? error;
}

/** What to do after the deploy: push to the pipeline (after bootstrapping each environment), or upload sample data. */
function nextSteps({ environment, stackNames }: DeployRun, project: Project): string[] {
  if (environment) return [`Upload sample data with "sdlf upload --env ${environment.id} --team <team> --dataset <dataset>".`];
  return [
    `The pipeline ${stackNames[0]} deploys the environments (${project.environments.map((e) => e.id).join(', ')}) on every push to ${project.cicd.source.branch}.`,
    // The pipeline deploys with each environment's CDK roles: they must exist and trust the cicd account.
    ...project.environments.map(
      (e) =>
        `Before the first push, bootstrap ${e.id} once with credentials for ${e.account}: sdlf bootstrap --env ${e.id}${e.account === project.cicd.account ? '' : ` (it trusts the cicd account ${project.cicd.account})`}`,
    ),
    `Push your project to start it: git push origin ${project.cicd.source.branch}`,
  ];
}

/**
 * Deletes, after asking, the stacks of removed datasets and pipelines under `--prune`; otherwise (or when the answer
 * is no) warns that they are left and adds the prune command to `next`. Returns the stacks deleted.
 */
async function pruneRemovedStacks(
  { options, io, clients, limits, rerun }: DeployRun,
  project: Project,
  removed: readonly StackInfo[],
  next: string[],
): Promise<string[]> {
  const pruned: string[] = [];
  if (removed.length === 0) return pruned;
  const list = removed.map((s) => s.name).join(', ');
  const question = `Delete ${removed.length} stack(s) of datasets or pipelines no longer in ${project.parametersFile} (${list})? Their data in the lake's buckets stays.`;
  if (options.prune && (await io.confirm(question))) {
    for (const stack of removed) {
      await deleteStack(clients, stack.name, io, { ...limits, resumeCommand: `${rerun} --prune` });
      pruned.push(stack.name);
    }
  } else {
    io.warn(
      `Stack(s) ${list} belong to datasets or pipelines no longer in ${project.parametersFile}; they were left as they are.`,
    );
    next.push(`Delete the stacks of removed datasets and pipelines (their data stays) with "${rerun} --prune": it asks first.`);
  }
  return pruned;
}

/**
 * The environment's stacks of datasets and pipelines that the configuration no longer defines: this project's by
 * name prefix and `sdlf:project` / `sdlf:environment` / `sdlf:project-id` tags, with a `sdlf:team` tag (foundations
 * never qualifies), in the order they can be deleted: datasets first.
 */
async function removedStacks(
  clients: AwsClients,
  project: Project,
  environment: DeploymentEnvironment,
  defined: readonly string[],
): Promise<StackInfo[]> {
  const prefix = environmentStackPrefix(environment);
  const candidates = (await listStacks(clients)).filter(
    (s) =>
      s.name.startsWith(prefix) &&
      !defined.includes(s.name) &&
      s.tags[SDLF_TAG_KEYS.project] === environment.resourcePrefix &&
      s.tags[SDLF_TAG_KEYS.environment] === environment.id &&
      s.tags[SDLF_TAG_KEYS.team] !== undefined &&
      hasOwnProjectId(s.tags, project.projectId),
  );
  const isDataset = (s: StackInfo) => s.tags[SDLF_TAG_KEYS.dataset] !== undefined;
  return [...candidates.filter(isDataset), ...candidates.filter((s) => !isDataset(s))];
}

/** Where each stack of a deployment stands, for a timeout: deployed, still changing (CloudFormation goes on), or not started. */
async function deployState(clients: AwsClients, names: readonly string[], finished: ReadonlySet<string>): Promise<string[]> {
  const lines: string[] = [];
  for (const name of names) {
    const stack = await describeStack(clients, name).catch(() => undefined);
    if (finished.has(name)) lines.push(`deployed: stack ${name} (${stack?.status ?? 'gone'})`);
    else if (stack && isBusy(stack.status))
      lines.push(`in progress: stack ${name} (${stack.status}; CloudFormation finishes it without sdlf)`);
    else lines.push(`not deployed: stack ${name}${stack ? ` (${stack.status})` : ''}`);
  }
  return lines;
}

/**
 * Gives a project without `project_id` a new one in ddk.json (kept in the file's style, nothing else changed), and
 * says which existing stacks the deploy will tag with it. Returns the project as loaded again.
 */
async function adoptProject(project: Project, existing: readonly string[], io: Io): Promise<Project> {
  const tagged = existing.length > 0 ? existing.join(', ') : 'none yet';
  if (project.projectId !== undefined) {
    io.info(`Adopting: the existing stacks (${tagged}) get ${SDLF_TAG_KEYS.projectId}=${project.projectId}.`);
    return project;
  }
  const projectId = randomUUID();
  const text = await readFile(join(project.root, project.ddkFile), 'utf8');
  const value = parseJson(text, project.ddkFile) as Record<string, unknown>;
  await writeFiles(
    {
      root: project.root,
      files: [
        {
          path: project.ddkFile,
          contents: stringifyJson({ project_id: projectId, ...value }, detectJsonStyle(text)),
          update: true,
        },
      ],
    },
    { dryRun: false, force: false },
    io,
  );
  io.info(
    `Adopting: ddk.json now has project_id ${projectId}; every stack this deploy touches gets ${SDLF_TAG_KEYS.projectId}=${projectId} (existing: ${tagged}).`,
  );
  return loadProject(project.root);
}

/**
 * Turns a failed stack deployment into an {@link SdlfError} naming the stack, the state CloudFormation left it in,
 * the cause the toolkit reported, and the next step; undefined when the stack did not fail (the error is something
 * else, e.g. an asset upload, and is rethrown as it is).
 */
export async function explainFailedDeploy(
  clients: AwsClients,
  name: string,
  error: unknown,
  rerun: string,
  region: string,
): Promise<SdlfError | undefined> {
  const stack = await describeStack(clients, name).catch(() => undefined);
  if (!stack || !/(ROLLBACK_COMPLETE|_FAILED)$/.test(stack.status)) return undefined;
  const cause = deployFailureCause(error);
  const message = `Deploying stack ${name} failed; CloudFormation left it ${stack.status}.${cause ? `\n${cause}` : ''}`;
  if (stack.status === 'ROLLBACK_COMPLETE') {
    return new SdlfError(message, {
      code: 'DEPLOY_FAILED',
      suggestions: [
        `Fix the cause above, then re-run "${rerun}": ${name} never finished creating, so the deploy deletes it and creates it again.`,
      ],
    });
  }
  if (stack.status === 'UPDATE_ROLLBACK_COMPLETE') {
    return new SdlfError(message, {
      code: 'DEPLOY_FAILED',
      suggestions: [`Fix the cause above, then re-run "${rerun}": ${name} is back on its previous version.`],
    });
  }
  try {
    assertStackUsable(stack, region);
  } catch (stuck) {
    if (stuck instanceof SdlfError) {
      return new SdlfError(message, { code: 'DEPLOY_FAILED', suggestions: stuck.suggestions ?? [] });
    }
  }
  return undefined;
}

/**
 * Explains a deployment that failed with `NoSuchBucket` (CloudFormation could not read a template from the CDK
 * assets bucket). With an endpoint override, the endpoint's CloudFormation cannot resolve the template URL its S3
 * gave (local emulators resolve path-style URLs on `localhost` only); on AWS, the bootstrap stack's bucket was
 * deleted. Undefined for any other error.
 */
export function missingAssetsBucket(
  error: unknown,
  target: AwsTarget,
  rerun: string,
  bootstrapCommand: string,
): SdlfError | undefined {
  if (!isAwsError(error, 'NoSuchBucket') && !isAwsError((error as { cause?: unknown })?.cause, 'NoSuchBucket')) return undefined;
  const bucket = `cdk-hnb659fds-assets-${target.account}-${target.region}`;
  const endpoint = process.env.AWS_ENDPOINT_URL_CLOUDFORMATION ?? process.env.AWS_ENDPOINT_URL;
  if (endpoint) {
    const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
    const ip = url !== undefined && /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i.test(url.hostname);
    const localhost = url && ip ? `${url.protocol}//localhost${url.port ? `:${url.port}` : ''}` : undefined;
    return new SdlfError(
      `CloudFormation at ${endpoint} (AWS_ENDPOINT_URL) could not read the stack templates sdlf uploaded to ${bucket}: it answered NoSuchBucket when reading them${url ? ` from ${url.host}` : ''}. Nothing was deployed.`,
      {
        code: 'TEMPLATE_UNREADABLE',
        suggestions: [
          localhost
            ? `Local AWS emulators read template URLs path-style only on the host name localhost: set AWS_ENDPOINT_URL=${localhost}, then re-run "${rerun}".`
            : `Use an endpoint whose CloudFormation can read the template URLs of its S3 (path-style), then re-run "${rerun}".`,
        ],
      },
    );
  }
  return new SdlfError(
    `The CDK assets bucket ${bucket} of aws://${target.account}/${target.region} does not exist, although its bootstrap stack CDKToolkit does: the bucket was deleted outside the stack. Nothing was deployed.`,
    {
      code: 'ASSETS_BUCKET_MISSING',
      suggestions: [
        `Delete the bootstrap stack ("aws cloudformation delete-stack --stack-name CDKToolkit --region ${target.region}") and bootstrap again with "${bootstrapCommand}", then re-run "${rerun}".`,
      ],
    },
  );
}

/** The toolkit's account of a failed deployment (the failed resources and CloudFormation's reasons), without colours or source locations. */
function deployFailureCause(error: unknown): string {
  const innermost = (error as { cause?: unknown }).cause ?? error;
  const text = innermost instanceof Error ? innermost.message : String(innermost);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the toolkit's terminal colours
  return (text.split('\nSource Location:')[0] ?? '').replace(/\u001b\[[0-9;]*m/g, '').trim();
}

/**
 * Warns when the pipeline's CodeCommit repository does not exist yet: the pipeline stack deploys without it, but has
 * nothing to build until the repository exists and receives a push. Any other answer (e.g. no permission to look)
 * is left to the pipeline.
 */
async function warnMissingRepository(clients: AwsClients, source: PipelineSource, target: AwsTarget, io: Io): Promise<void> {
  if (source.provider !== 'codecommit') return;
  try {
    await clients.codeCommit.send(new GetRepositoryCommand({ repositoryName: source.repository }));
  } catch (error) {
    if (!isAwsError(error, 'RepositoryDoesNotExistException')) {
      io.debug(`Could not look up repository ${source.repository}: ${(error as Error).message}`);
      return;
    }
    io.warn(
      `Repository ${source.repository} does not exist in aws://${target.account}/${target.region} yet: the pipeline has ` +
        'nothing to build until you run "sdlf create-repository" and push.',
    );
  }
}

/** Fails with "run sdlf bootstrap" when the CDK bootstrap stack is missing or unusable. */
async function assertBootstrapped(clients: AwsClients, target: AwsTarget, bootstrapCommand: string): Promise<void> {
  const stack = await describeStack(clients, BOOTSTRAP_STACK);
  if (!stack || stack.status === 'ROLLBACK_COMPLETE') {
    throw new SdlfError(
      `aws://${target.account}/${target.region} is not bootstrapped for the CDK (no ${BOOTSTRAP_STACK} stack).`,
      {
        code: 'NOT_BOOTSTRAPPED',
        suggestions: [`Run "${bootstrapCommand}" first.`],
      },
    );
  }
  assertStackUsable(stack, target.region);
}

/** Fails with "run sdlf bootstrap" when Lake Formation does not list the CDK execution role as an admin. */
async function assertLakeFormationAdmin(
  clients: AwsClients,
  target: AwsTarget,
  partition: string,
  bootstrapCommand: string,
): Promise<void> {
  const role = cdkExecutionRoleArn(target.account, target.region, partition);
  const settings = await readDataLakeSettings(clients);
  if (isDataLakeAdmin(settings, role)) return;
  throw new SdlfError(
    `Lake Formation in aws://${target.account}/${target.region} does not list ${role} as a data lake administrator.`,
    {
      code: 'LAKE_FORMATION_NOT_READY',
      suggestions: [`Run "${bootstrapCommand}": it adds the role and keeps the existing administrators.`],
    },
  );
}
