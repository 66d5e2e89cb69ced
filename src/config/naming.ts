import type { Problem } from '../core/errors.js';
import type { DatasetConfig, DeploymentEnvironment, Project } from './model.js';

/** AWS limits on the length of the names sdlf creates. */
export const NAME_LIMITS = {
  stack: 128,
  bucket: 63,
  lambda: 64,
  iamRole: 64,
  sqs: 80,
  stateMachine: 80,
  glueJob: 255,
  glueDatabase: 255,
  dynamoTable: 255,
  eventRule: 64,
  ssmParameter: 1011,
  snsTopic: 256,
  kmsAlias: 256,
} as const;

/** The kind of resource a name is for; keys of {@link NAME_LIMITS}. */
export type ResourceKind = keyof typeof NAME_LIMITS;

/** A physical name with the limit it must fit. */
export interface PhysicalName {
  readonly kind: ResourceKind;
  /** What the name is for, in words: "stage A queue of demoteam/standard". */
  readonly label: string;
  readonly value: string;
}

/** Where the names of one environment come from. */
export interface NamingContext {
  readonly prefix: string;
  readonly env: string;
  readonly account: string;
  readonly region: string;
}

/** The data buckets of an environment. */
export const BUCKET_KINDS = ['raw', 'stage', 'analytics', 'athena', 'artifacts', 'access-logs'] as const;
export type BucketKind = (typeof BUCKET_KINDS)[number];

/** The metadata tables of an environment (the seed's "octagon" tables). */
export const TABLE_KINDS = ['object-metadata', 'datasets', 'pipelines', 'execution-history'] as const;
export type TableKind = (typeof TABLE_KINDS)[number];

/** Functions of a team's pipeline, shared by its datasets. */
export const PIPELINE_FUNCTIONS = ['routing', 'stage-a-trigger', 'step', 'stage-b-trigger'] as const;
export type PipelineFunction = (typeof PIPELINE_FUNCTIONS)[number];

/** Tag keys sdlf puts on every resource; `delete-all` finds the project's resources by them. */
export const SDLF_TAG_KEYS = {
  /** The resource prefix of the environment (`ddk`). */
  project: 'sdlf:project',
  /** The project's id (`project_id` of ddk.json): which project of a prefix owns a stack. */
  projectId: 'sdlf:project-id',
  /** The environment id (`dev`). */
  environment: 'sdlf:environment',
  /** The team, on pipeline and dataset stacks. */
  team: 'sdlf:team',
  /** The dataset, on dataset stacks. */
  dataset: 'sdlf:dataset',
} as const;

/** Stages that own a queue and a state machine. */
export const STAGES = ['a', 'b'] as const;
export type StageId = (typeof STAGES)[number];

/**
 * Produces every physical name of one environment. All names carry the prefix and the environment; bucket names
 * add region and account so they are globally unique and predictable.
 */
export class Naming {
  constructor(readonly context: NamingContext) {}

  /** Creates the naming of a deployment environment. */
  static forEnvironment(environment: DeploymentEnvironment): Naming {
    return new Naming({
      prefix: environment.resourcePrefix,
      env: environment.id,
      account: environment.account,
      region: environment.region,
    });
  }

  private get base(): string {
    return `${this.context.prefix}-${this.context.env}`;
  }

  /** `{prefix}-{env}-foundations`. */
  foundationsStack(): string {
    return `${this.base}-foundations`;
  }

  /** `{prefix}-{env}-{team}-{pipeline}`. */
  pipelineStack(team: string, pipeline: string): string {
    return `${this.base}-${team}-${pipeline}`;
  }

  /** `{prefix}-{env}-{team}-{dataset}`. */
  datasetStack(team: string, dataset: string): string {
    return `${this.base}-${team}-${dataset}`;
  }

  /** `{prefix}-{env}-{kind}-{region}-{account}`. */
  bucket(kind: BucketKind): string {
    return `${this.base}-${kind}-${this.context.region}-${this.context.account}`;
  }

  /** `{prefix}-{env}-{kind}`. */
  table(kind: TableKind): string {
    return `${this.base}-${kind}`;
  }

  /** `alias/{prefix}-{env}-{purpose}`. */
  kmsAlias(purpose: string): string {
    return `alias/${this.base}-${purpose}`;
  }

  /** `{prefix}-{env}-alarms`. */
  alarmTopic(): string {
    return `${this.base}-alarms`;
  }

  /** `/{prefix}/{env}/{...segments}`. */
  ssm(...segments: string[]): string {
    return `/${this.context.prefix}/${this.context.env}/${segments.join('/')}`;
  }

  /** SSM parameter holding a dataset's configuration: `/{prefix}/{env}/datasets/{team}/{dataset}`. */
  datasetParameter(team: string, dataset: string): string {
    return this.ssm('datasets', team, dataset);
  }

  /** `{prefix}-{env}-{team}-{pipeline}-{fn}`. */
  pipelineFunction(team: string, pipeline: string, fn: PipelineFunction): string {
    return `${this.base}-${team}-${pipeline}-${fn}`;
  }

  /** `{prefix}-{env}-{team}-{dataset}-light-transform`: the dataset's stage A transform function. */
  lightTransformFunction(team: string, dataset: string): string {
    return `${this.base}-${team}-${dataset}-light-transform`;
  }

  /** `{prefix}-{env}-{team}-{pipeline}-stage-{a|b}`. */
  stateMachine(team: string, pipeline: string, stage: StageId): string {
    return `${this.base}-${team}-${pipeline}-stage-${stage}`;
  }

  /** Stage A queue of a team's pipeline: `{prefix}-{env}-{team}-{pipeline}-stage-a.fifo`. */
  stageAQueue(team: string, pipeline: string): string {
    return `${this.base}-${team}-${pipeline}-stage-a.fifo`;
  }

  /** Dead-letter queue of a team's stage A: `…-stage-a-dlq.fifo`. */
  stageADeadLetterQueue(team: string, pipeline: string): string {
    return `${this.base}-${team}-${pipeline}-stage-a-dlq.fifo`;
  }

  /** Stage B queue of a dataset: `{prefix}-{env}-{team}-{dataset}-stage-b.fifo`. */
  stageBQueue(team: string, dataset: string): string {
    return `${this.base}-${team}-${dataset}-stage-b.fifo`;
  }

  /** Dead-letter queue of a dataset's stage B: `…-stage-b-dlq.fifo`. */
  stageBDeadLetterQueue(team: string, dataset: string): string {
    return `${this.base}-${team}-${dataset}-stage-b-dlq.fifo`;
  }

  /**
   * Dead-letter queue of the EventBridge deliveries to a team pipeline's routing function:
   * `{prefix}-{env}-{team}-{pipeline}-routing-dlq` (standard, as EventBridge dead-letter queues must be).
   */
  routingDeadLetterQueue(team: string, pipeline: string): string {
    return `${this.base}-${team}-${pipeline}-routing-dlq`;
  }

  /** `{prefix}-{env}-{team}-{dataset}-heavy-transform`. */
  glueJob(team: string, dataset: string): string {
    return `${this.base}-${team}-${dataset}-heavy-transform`;
  }

  /** `{prefix}_{env}_{team}_{dataset}`, dashes mapped to underscores as Glue requires. */
  glueDatabase(team: string, dataset: string): string {
    return `${this.context.prefix}_${this.context.env}_${team}_${dataset}`.replaceAll('-', '_');
  }

  /**
   * `{prefix}-{env}-{team}.{dataset}-raw`: the rule that routes new raw objects of a dataset. The dot, which no
   * team name holds, ends the team: `{prefix}-{env}-sales.*-raw` (what the team pipeline's routing dead-letter queue
   * admits) matches the rules of team `sales` and none of team `sales-eu`.
   */
  datasetRule(team: string, dataset: string): string {
    return `${this.base}-${team}.${dataset}-raw`;
  }

  /** `{prefix}-{env}-{team}-{pipeline}-{purpose}` for roles of a team's pipeline. */
  pipelineRole(team: string, pipeline: string, purpose: PipelineFunction | `stage-${StageId}`): string {
    return `${this.base}-${team}-${pipeline}-${purpose}`;
  }

  /** `{prefix}-{env}-{team}-{dataset}-{purpose}` for roles of a dataset. */
  datasetRole(team: string, dataset: string, purpose: string): string {
    return `${this.base}-${team}-${dataset}-${purpose}`;
  }

  /** `{prefix}-{env}-{purpose}` for roles shared by an environment (e.g. the Lake Formation data access role). */
  environmentRole(purpose: string): string {
    return `${this.base}-${purpose}`;
  }

  /** `{prefix}-{env}-glue`: the Glue security configuration every job of the environment uses. */
  glueSecurityConfiguration(): string {
    return `${this.base}-glue`;
  }

  /** SSM parameter the foundations stack writes for the other stacks: `/{prefix}/{env}/foundations/{key}`. */
  foundationsParameter(key: string): string {
    return this.ssm('foundations', key);
  }

  /** `{prefix}-{env}-{team}-{pipeline}-stage-b-wake`: the queue that wakes a team pipeline's stage B trigger. */
  stageBWakeQueue(team: string, pipeline: string): string {
    return `${this.base}-${team}-${pipeline}-stage-b-wake`;
  }

  /** `/aws/lambda/{function}`: the log group Lambda writes a function's logs to. */
  static lambdaLogGroup(functionName: string): string {
    return `/aws/lambda/${functionName}`;
  }

  /**
   * `/aws/vendedlogs/{prefix}-{env}-{team}-{pipeline}`: the log group a team pipeline's functions, state machines
   * and its datasets' light transforms share (Lambda names each function's streams `YYYY/MM/DD/{function}[…]…`).
   */
  pipelineLogGroup(team: string, pipeline: string): string {
    return `/aws/vendedlogs/${this.pipelineStack(team, pipeline)}`;
  }

  /** `/aws/vendedlogs/states/{stateMachine}`: a state machine's log group. */
  static stateMachineLogGroup(stateMachineName: string): string {
    return `/aws/vendedlogs/states/${stateMachineName}`;
  }

  /** `{prefix}-cicd-pipeline`: the CI/CD pipeline stack of a project (in the cicd account). */
  static cicdStack(prefix: string): string {
    return `${prefix}-cicd-pipeline`;
  }

  /** Raw/stage key prefix of a dataset: `{team}/{dataset}/`. */
  static datasetPrefix(team: string, dataset: string): string {
    return `${team}/${dataset}/`;
  }

  /** Lists the names of an environment's shared resources. */
  environmentNames(): PhysicalName[] {
    return [
      { kind: 'stack', label: 'foundations stack', value: this.foundationsStack() },
      ...BUCKET_KINDS.map((kind): PhysicalName => ({ kind: 'bucket', label: `${kind} bucket`, value: this.bucket(kind) })),
      ...TABLE_KINDS.map((kind): PhysicalName => ({ kind: 'dynamoTable', label: `${kind} table`, value: this.table(kind) })),
      { kind: 'snsTopic', label: 'alarm topic', value: this.alarmTopic() },
      { kind: 'kmsAlias', label: 'data key alias', value: this.kmsAlias('data') },
      { kind: 'iamRole', label: 'Lake Formation data access role', value: this.environmentRole('lakeformation') },
    ];
  }

  /** Lists the names of a team's pipeline. */
  pipelineNames(team: string, pipeline: string): PhysicalName[] {
    const of = `${team}/${pipeline}`;
    return [
      { kind: 'stack', label: `pipeline stack of ${of}`, value: this.pipelineStack(team, pipeline) },
      ...PIPELINE_FUNCTIONS.map(
        (fn): PhysicalName => ({
          kind: 'lambda',
          label: `${fn} function of ${of}`,
          value: this.pipelineFunction(team, pipeline, fn),
        }),
      ),
      ...PIPELINE_FUNCTIONS.map(
        (fn): PhysicalName => ({
          kind: 'iamRole',
          label: `${fn} role of ${of}`,
          value: this.pipelineRole(team, pipeline, fn),
        }),
      ),
      ...STAGES.map(
        (stage): PhysicalName => ({
          kind: 'iamRole',
          label: `stage ${stage.toUpperCase()} state machine role of ${of}`,
          value: this.pipelineRole(team, pipeline, `stage-${stage}`),
        }),
      ),
      { kind: 'stateMachine', label: `stage A state machine of ${of}`, value: this.stateMachine(team, pipeline, 'a') },
      { kind: 'stateMachine', label: `stage B state machine of ${of}`, value: this.stateMachine(team, pipeline, 'b') },
      { kind: 'sqs', label: `stage A queue of ${of}`, value: this.stageAQueue(team, pipeline) },
      { kind: 'sqs', label: `stage A dead-letter queue of ${of}`, value: this.stageADeadLetterQueue(team, pipeline) },
      { kind: 'sqs', label: `stage B wake queue of ${of}`, value: this.stageBWakeQueue(team, pipeline) },
      {
        kind: 'sqs',
        label: `routing dead-letter queue of ${of}`,
        value: this.routingDeadLetterQueue(team, pipeline),
      },
    ];
  }

  /** Lists the names of one dataset. */
  datasetNames(team: string, dataset: string): PhysicalName[] {
    const of = `${team}/${dataset}`;
    return [
      { kind: 'stack', label: `dataset stack of ${of}`, value: this.datasetStack(team, dataset) },
      { kind: 'lambda', label: `light transform function of ${of}`, value: this.lightTransformFunction(team, dataset) },
      { kind: 'iamRole', label: `light transform role of ${of}`, value: this.datasetRole(team, dataset, 'light-transform') },
      { kind: 'iamRole', label: `Glue job role of ${of}`, value: this.datasetRole(team, dataset, 'glue') },
      { kind: 'sqs', label: `stage B queue of ${of}`, value: this.stageBQueue(team, dataset) },
      { kind: 'sqs', label: `stage B dead-letter queue of ${of}`, value: this.stageBDeadLetterQueue(team, dataset) },
      { kind: 'glueJob', label: `Glue job of ${of}`, value: this.glueJob(team, dataset) },
      { kind: 'glueDatabase', label: `Glue database of ${of}`, value: this.glueDatabase(team, dataset) },
      { kind: 'eventRule', label: `event rule of ${of}`, value: this.datasetRule(team, dataset) },
      { kind: 'ssmParameter', label: `configuration parameter of ${of}`, value: this.datasetParameter(team, dataset) },
    ];
  }
}

/** Checks one name against its AWS length limit; returns the problem, if any. */
export function checkName(name: PhysicalName, input: string): Problem | undefined {
  const limit = NAME_LIMITS[name.kind];
  if (name.value.length <= limit) return undefined;
  return {
    code: 'NAME_TOO_LONG',
    message: `${input} makes the ${name.label} "${name.value}" ${name.value.length} characters long; AWS allows ${limit} for this resource.`,
    suggestion: `Shorten it by at least ${name.value.length - limit} character(s).`,
  };
}

/** What {@link checkProjectNames} checks: the environments and datasets of a project, and where the datasets are. */
export type ProjectNames = Pick<Project, 'environments' | 'datasets'> & {
  /** The file the datasets come from, named in the problems. @default 'parameters.json' */
  readonly parametersFile?: string;
};

/**
 * Checks every name a project would create in every environment: one problem per name too long, then one per pair
 * of owners (environment, team/pipeline, team/dataset) that would create the same name (see {@link checkNameCollisions}).
 */
export function checkProjectNames(project: ProjectNames): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const environment of project.environments) {
    const naming = Naming.forEnvironment(environment);
    const envInput = `Environment "${environment.id}" with prefix "${environment.resourcePrefix}"`;
    for (const name of naming.environmentNames()) push(checkName(name, envInput));
    const datasets: readonly DatasetConfig[] = project.datasets[environment.id] ?? [];
    for (const { team, pipeline } of uniquePipelines(datasets)) {
      for (const name of naming.pipelineNames(team, pipeline))
        push(checkName(name, `Team "${team}" with pipeline "${pipeline}"`));
    }
    for (const { team, dataset } of datasets) {
      for (const name of naming.datasetNames(team, dataset)) push(checkName(name, `Team "${team}" with dataset "${dataset}"`));
    }
  }
  if (problems.length === 0) problems.push(...checkNameCollisions(project));
  return problems;

  function push(problem: Problem | undefined) {
    if (problem && !seen.has(problem.message)) {
      seen.add(problem.message);
      problems.push(problem);
    }
  }
}

/** Lists the distinct (team, pipeline) pairs of a list of datasets, in first-seen order. */
export function uniquePipelines(datasets: readonly DatasetConfig[]): Array<{ team: string; pipeline: string }> {
  const seen = new Map<string, { team: string; pipeline: string }>();
  for (const { team, pipeline } of datasets) seen.set(`${team}\0${pipeline}`, { team, pipeline });
  return [...seen.values()];
}

/** The stage B transform a dataset gets unless told otherwise: its own, `<team>_<dataset>` with dashes as underscores. */
export function defaultStageBTransform(team: string, dataset: string): string {
  return `${team}_${dataset}`.replaceAll('-', '_');
}

/** Who creates a name: an environment, a team's pipeline or a dataset, and where it is configured. */
interface NameOwner {
  /** Identity across environments: `dataset:sales/orders`. */
  readonly id: string;
  readonly kind: 'environment' | 'pipeline' | 'dataset';
  /** `team "sales" dataset "orders"`. */
  readonly label: string;
  readonly file: string;
  /** JSON path in {@link NameOwner.file}: `dev[0]`. */
  readonly path: string;
  readonly team?: string;
  readonly name?: string;
}

/** Human words for each kind of name, for messages. */
const KIND_WORDS: Readonly<Record<ResourceKind | 'heavyTransform', string>> = {
  stack: 'stack',
  bucket: 'bucket',
  lambda: 'Lambda function',
  iamRole: 'IAM role',
  sqs: 'queue',
  stateMachine: 'state machine',
  glueJob: 'Glue job',
  glueDatabase: 'Glue database',
  dynamoTable: 'DynamoDB table',
  eventRule: 'EventBridge rule',
  ssmParameter: 'SSM parameter',
  snsTopic: 'SNS topic',
  kmsAlias: 'KMS alias',
  heavyTransform: 'default heavy transform',
};

/** How many of the shared names a collision message lists. */
const COLLISION_NAMES_SHOWN = 4;

/**
 * Checks that distinct owners never produce the same physical name. Names join team, dataset and pipeline with
 * `-`, so team `sales-eu` dataset `orders` and team `sales` dataset `eu-orders` would share stack, functions,
 * queues, Glue job and database; and team `sales` dataset `eu-standard` would take team `sales-eu`'s `standard`
 * pipeline stack. Existing names are kept (renaming deployed resources replaces them), so such a pair is refused
 * instead. Names are compared where AWS keeps them apart: IAM roles per account, buckets globally, the rest per
 * account and region. Default heavy transform names (`<team>_<dataset>`) are compared too: two datasets whose
 * transform is the default of both would silently share one.
 *
 * Returns one problem per pair of owners, at the later owner's entry (a pipeline's stack is refused to the dataset
 * that collides with it), naming both owners, their entries and the shared names.
 */
export function checkNameCollisions(project: ProjectNames): Problem[] {
  const file = project.parametersFile ?? 'parameters.json';
  const claimed = new Map<string, NameOwner>();
  const pairs = new Map<
    string,
    { first: NameOwner; second: NameOwner; names: Array<{ kind: ResourceKind | 'heavyTransform'; text: string }> }
  >();
  const claim = (scope: string, kind: ResourceKind | 'heavyTransform', value: string, owner: NameOwner) => {
    const key = `${scope}\0${kind}\0${value}`;
    const first = claimed.get(key);
    if (!first) {
      claimed.set(key, owner);
      return;
    }
    if (first.id === owner.id) return;
    const pairKey = `${first.id}\0${owner.id}`;
    const pair = pairs.get(pairKey) ?? { first, second: owner, names: [] };
    pair.names.push({ kind, text: `${KIND_WORDS[kind]} "${value}"` });
    pairs.set(pairKey, pair);
  };
  const scopeOf = (environment: DeploymentEnvironment, kind: ResourceKind) =>
    kind === 'bucket' ? 'global' : kind === 'iamRole' ? environment.account : `${environment.account}/${environment.region}`;

  for (const environment of project.environments) {
    const naming = Naming.forEnvironment(environment);
    const envOwner: NameOwner = {
      id: `environment:${environment.id}`,
      kind: 'environment',
      label: `environment "${environment.id}"`,
      file: 'ddk.json',
      path: `environments.${environment.id}`,
    };
    for (const name of naming.environmentNames()) claim(scopeOf(environment, name.kind), name.kind, name.value, envOwner);
    const datasets: readonly DatasetConfig[] = project.datasets[environment.id] ?? [];
    for (const { team, pipeline } of uniquePipelines(datasets)) {
      const index = datasets.findIndex((d) => d.team === team && d.pipeline === pipeline);
      const owner: NameOwner = {
        id: `pipeline:${team}/${pipeline}`,
        kind: 'pipeline',
        label: `team "${team}" pipeline "${pipeline}"`,
        file,
        path: `${environment.id}[${index}].pipeline`,
        team,
        name: pipeline,
      };
      for (const name of naming.pipelineNames(team, pipeline))
        claim(scopeOf(environment, name.kind), name.kind, name.value, owner);
    }
    datasets.forEach(({ team, dataset, stageBTransform }, index) => {
      const owner: NameOwner = {
        id: `dataset:${team}/${dataset}`,
        kind: 'dataset',
        label: `team "${team}" dataset "${dataset}"`,
        file,
        path: `${environment.id}[${index}]`,
        team,
        name: dataset,
      };
      for (const name of naming.datasetNames(team, dataset)) claim(scopeOf(environment, name.kind), name.kind, name.value, owner);
      // Transforms are project files, shared by every environment.
      if (stageBTransform === defaultStageBTransform(team, dataset)) claim('project', 'heavyTransform', stageBTransform, owner);
    });
  }

  return [...pairs.values()].map(({ first, second, names }): Problem => {
    // The stack and the heavy transform first: they are what a user recognizes.
    const rank = (kind: ResourceKind | 'heavyTransform') => (kind === 'stack' ? 0 : kind === 'heavyTransform' ? 1 : 2);
    const sorted = [...names].sort((a, b) => rank(a.kind) - rank(b.kind)).map((name) => name.text);
    const shown = sorted.slice(0, COLLISION_NAMES_SHOWN).join(', ');
    const more = names.length > COLLISION_NAMES_SHOWN ? ` and ${names.length - COLLISION_NAMES_SHOWN} more` : '';
    return {
      code: 'NAME_COLLISION',
      file: second.file,
      path: second.path,
      message: `${capitalize(second.label)} (${second.file} ${second.path}) and ${first.label} (${first.file} ${first.path}) would create the same names: ${shown}${more}.`,
      suggestion: collisionFix(second, first),
    };
  });
}

function collisionFix(owner: NameOwner, other: NameOwner): string {
  if (owner.kind === 'dataset') {
    return `Pick another name for dataset "${owner.name}" of team "${owner.team}" (edit "dataset" at ${owner.path} of ${owner.file}, or run "sdlf add-dataset --team ${owner.team} --dataset <another-name>" instead); a heavy transform that is not the default needs an explicit name: --stage-b-transform <name>.`;
  }
  if (owner.kind === 'pipeline') {
    return `Register the datasets of team "${owner.team}" with another pipeline type (edit ${owner.path} of ${owner.file}), or rename team "${owner.team}" or ${other.label}.`;
  }
  return `Give environment ${owner.path} another resource_prefix in ddk.json.`;
}

function capitalize(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
