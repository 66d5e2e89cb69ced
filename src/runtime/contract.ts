/**
 * The contract between the CDK app (which creates functions, queues and state machines and sets their
 * environment) and the runtime (which reads it). Both sides import these names; neither spells them itself.
 */
import type { DatasetConfig } from '../config/model.js';

/** Lambda handlers of the package; each is `src/runtime/handlers/<name>/handler.ts`, bundled to `dist/handlers/<name>/` (`index.mjs` and its chunks). */
export const HANDLERS = ['routing', 'stage-a-trigger', 'step', 'stage-b-trigger', 'light-transform'] as const;
export type HandlerName = (typeof HANDLERS)[number];

/**
 * Module specifier the `light-transform` handler imports the user's transform from (its default export). The
 * handler is not bundled by the package build: the CDK app bundles it at synth time, once per dataset, resolving
 * this specifier to `<project>/transforms/light/<stage_a_transform>.ts`.
 */
export const USER_TRANSFORM_MODULE = 'sdlf:user-transform';

/**
 * Environment variables, by handler. Every handler also gets {@link COMMON_ENV}. A handler reads them once at
 * cold start and fails there when one is missing.
 */
export const COMMON_ENV = {
  /** Resource prefix (`ddk`). */
  prefix: 'SDLF_PREFIX',
  /** Environment id (`dev`). */
  env: 'SDLF_ENV',
  /** Metadata tables. */
  objectMetadataTable: 'SDLF_OBJECT_METADATA_TABLE',
  datasetsTable: 'SDLF_DATASETS_TABLE',
  pipelinesTable: 'SDLF_PIPELINES_TABLE',
  executionHistoryTable: 'SDLF_EXECUTION_HISTORY_TABLE',
  /** Days an execution history item lives (DynamoDB TTL). */
  executionTtlDays: 'SDLF_EXECUTION_TTL_DAYS',
} as const;

export const HANDLER_ENV = {
  /** EventBridge "Object Created" → ObjectMetadata + team's stage A queue. */
  routing: {
    team: 'SDLF_TEAM',
    pipeline: 'SDLF_PIPELINE',
    stageAQueueUrl: 'SDLF_STAGE_A_QUEUE_URL',
  },
  /** Stage A queue (SQS event source) → one stage A state machine execution per message. */
  'stage-a-trigger': {
    stateMachineArn: 'SDLF_STATE_MACHINE_ARN',
  },
  /** Step Functions task for pre-update / post-update / error of both stages. */
  step: {
    team: 'SDLF_TEAM',
    pipeline: 'SDLF_PIPELINE',
    stageBucket: 'SDLF_STAGE_BUCKET',
    analyticsBucket: 'SDLF_ANALYTICS_BUCKET',
    stageADeadLetterQueueUrl: 'SDLF_STAGE_A_DLQ_URL',
    /** Stage B's wake queue; absent for a pipeline without stage B. */
    stageBWakeQueueUrl: 'SDLF_STAGE_B_WAKE_QUEUE_URL',
  },
  /**
   * Wake queue (SQS event source, one invocation per batching window with arrivals) → for each dataset of the
   * team's pipeline, batch its stage B queue into stage B executions.
   */
  'stage-b-trigger': {
    team: 'SDLF_TEAM',
    pipeline: 'SDLF_PIPELINE',
    stateMachineArn: 'SDLF_STATE_MACHINE_ARN',
    artifactsBucket: 'SDLF_ARTIFACTS_BUCKET',
    /** Its own wake queue: a run that could not receive every staged message wakes the trigger again. */
    wakeQueueUrl: 'SDLF_STAGE_B_WAKE_QUEUE_URL',
  },
  /** Stage A process step of one dataset: runs the user's light transform on one raw object. */
  'light-transform': {
    team: 'SDLF_TEAM',
    dataset: 'SDLF_DATASET',
    stageBucket: 'SDLF_STAGE_BUCKET',
  },
} as const satisfies Record<HandlerName, Record<string, string>>;

/**
 * SQS message attribute that `sdlf redrive` puts on each message it moves back from a dead-letter queue (its value
 * is the time of the move): only such a message restarts a stage A execution that FAILED.
 */
export const REDRIVE_ATTRIBUTE = 'sdlf-redrive';

/**
 * The metric of the events routing drops (malformed, or for an object outside every registered dataset): each
 * drop is logged with a message that starts with `logPrefix`; a metric filter on the routing function's log group
 * counts them, by the function's name, and an alarm notifies the alarm topic.
 */
export const DROPPED_EVENTS = { logPrefix: 'Dropped', namespace: 'sdlf', metricName: 'DroppedEvents' } as const;

/**
 * Receives after which a queue message moves to its dead-letter queue: the redrive policy of every stage A and
 * stage B queue sdlf deploys, and of the local run's queues.
 */
export const MAX_RECEIVE_COUNT = 3;

/** The dataset configuration stored as a String SSM parameter at `/{prefix}/{env}/datasets/{team}/{dataset}`. */
export interface DatasetParameter extends DatasetConfig {
  /** Physical names the runtime needs for this dataset. */
  readonly lightTransformFunction: string;
  readonly stageBQueueUrl: string;
  readonly stageBDeadLetterQueueUrl: string;
  readonly glueJob: string;
  readonly glueDatabase: string;
  /** Increases when the dataset's configuration changes. */
  readonly version: number;
}

/** One message of a stage A queue, sent by routing. */
export interface StageAMessage {
  readonly bucket: string;
  readonly key: string;
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  readonly size?: number;
  readonly etag?: string;
  readonly versionId?: string;
  /** Deterministic id of the object version; also the execution name and SQS deduplication id. */
  readonly objectId: string;
}

/** One message of a stage B queue, sent by stage A post-update: a staged object ready for the heavy transform. */
export interface StageBMessage {
  readonly bucket: string;
  readonly key: string;
  readonly team: string;
  readonly dataset: string;
  /** The stage A execution that produced it. */
  readonly sourceExecutionId: string;
}

/**
 * One message of a team pipeline's stage B wake queue, sent by stage A post-update after the stage B messages of
 * the objects it staged (and by `sdlf redrive` after moving stage B messages back): wakes the stage B trigger, which reads the stage B queues itself. The fields are for the
 * trigger's log only.
 */
export interface StageBWakeMessage {
  readonly team: string;
  readonly dataset: string;
  /** Objects now on the dataset's stage B queue. */
  readonly staged: number;
  /** What put them there: the stage A execution that staged them, `sdlf redrive`, or the trigger (`stage-b-trigger`) when one run could not take them all. */
  readonly source: string;
}

/**
 * Builds the body of a {@link StageBWakeMessage}: `staged` objects of a dataset are on its stage B queue, put
 * there by `source`.
 */
export function stageBWakeBody(
  dataset: { readonly team: string; readonly dataset: string },
  staged: number,
  source: string,
): string {
  const message: StageBWakeMessage = { team: dataset.team, dataset: dataset.dataset, staged, source };
  return JSON.stringify(message);
}

/**
 * Seconds the stage B trigger keeps the stage B messages it receives hidden while it hands their batches over; the
 * wake queue's visibility timeout is longer than this plus a batching window and a trigger run.
 */
export const STAGE_B_RECEIVE_VISIBILITY_SECONDS = 300;

/**
 * Input of a stage A state machine execution (from stage-a-trigger). The state machine passes it to each step;
 * `lightTransformFunction` is the function the Process state invokes.
 */
export interface StageAExecutionInput extends StageAMessage {
  readonly stage: 'a';
  /** Always present (empty for an unversioned object): the state machine passes it to the light transform. */
  readonly versionId: string;
  readonly executionId: string;
  readonly lightTransformFunction: string;
  readonly stageBQueueUrl: string;
  /** The SQS message body, kept so the error step can put it on the dead-letter queue. */
  readonly message: string;
}

/**
 * Event of a direct invocation of the stage B trigger (`sdlf trigger`): start the dataset's stage B now, with
 * whatever is staged, instead of waiting for its wake queue's batching window and `minItemsProcess`.
 */
export interface StageBStartRequest {
  readonly action: 'start-now';
  readonly dataset: string;
}

/** Tells a {@link StageBStartRequest} from the wake queue's event. */
export function isStageBStartRequest(event: unknown): event is StageBStartRequest {
  if (typeof event !== 'object' || event === null) return false;
  const { action, dataset } = event as { action?: unknown; dataset?: unknown };
  return action === 'start-now' && typeof dataset === 'string' && dataset.length > 0;
}

/**
 * Input of a stage B state machine execution (from stage-b-trigger). The Glue job gets `--manifest` (the S3 URI
 * of a JSON list of the batch's staged keys), `--team`, `--dataset`, `--database`, `--execution-id`.
 */
export interface StageBExecutionInput {
  readonly stage: 'b';
  readonly executionId: string;
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  readonly glueJob: string;
  readonly glueDatabase: string;
  /** `s3://{artifacts}/manifests/{team}/{dataset}/{executionId}.json`. */
  readonly manifest: string;
  readonly keys: readonly string[];
}

/** Input of the `step` function, as the state machines build it. */
export type StepInput =
  | { readonly step: 'pre-update'; readonly execution: StageAExecutionInput | StageBExecutionInput }
  | {
      readonly step: 'post-update';
      readonly execution: StageAExecutionInput | StageBExecutionInput;
      /** Stage A: the light transform's result; stage B: the Glue job run. */
      readonly result: unknown;
    }
  | {
      readonly step: 'error';
      readonly execution: StageAExecutionInput | StageBExecutionInput;
      /** The `Catch` output: `{ Error, Cause }`. */
      readonly error: { readonly Error?: string; readonly Cause?: string };
    };

/** Input and output of the `light-transform` function (stage A Process state). */
export interface LightTransformInput {
  readonly bucket: string;
  readonly key: string;
  /**
   * The version of the raw object the execution is for (from its S3 event): the transform reads that version,
   * not whatever the key holds by then. Empty or absent for an unversioned object.
   */
  readonly versionId?: string;
  readonly team: string;
  readonly dataset: string;
  readonly executionId: string;
}
export interface LightTransformOutput {
  /** Staged objects written, as `s3://` keys in the stage bucket. */
  readonly outputs: ReadonlyArray<{
    readonly bucket: string;
    readonly key: string;
    readonly table: string;
    readonly records: number;
  }>;
}

/**
 * Separator between the team and the rest of every partition key of the metadata tables (and of the dataset
 * index): `{team}/…`. Team names match `RESOURCE_NAME_PATTERN` (letters, digits, dashes), so no team name contains
 * it and `sales/*` matches no key of team `sales-eu`.
 */
export const METADATA_KEY_SEPARATOR = '/';

/**
 * The partition key of a metadata item of `team`: `{team}/{rest}`. The one place the layout is derived: the stores
 * write and read every item under it and the team pipeline roles may touch only keys that start with it (see
 * {@link metadataKeyPatternOf}).
 */
export function metadataKeyOf(team: string, rest: string): string {
  return `${team}${METADATA_KEY_SEPARATOR}${rest}`;
}

/** The `dynamodb:LeadingKeys` pattern (`StringLike`) of every metadata key of `team`: `{team}/*`. */
export function metadataKeyPatternOf(team: string): string {
  return metadataKeyOf(team, '*');
}

/** Matches a key of the layout of {@link metadataKeyOf}; group 1 is the team, group 2 the rest. */
const METADATA_KEY = /^([a-z][a-z0-9-]*[a-z0-9])\/(.+)$/s;

/**
 * Splits a metadata key into its team and the rest; `undefined` for a key written before the layout (an object id
 * `s3://…`, an execution id `a-…`, a dataset name `team-dataset`), which `sdlf migrate-keys` rewrites.
 */
export function parseMetadataKey(key: string): { readonly team: string; readonly rest: string } | undefined {
  const match = METADATA_KEY.exec(key);
  return match?.[1] && match[2] ? { team: match[1], rest: match[2] } : undefined;
}

/**
 * The output every team pipeline stack carries since its runtime reads and writes the team key layout: a deployed
 * pipeline stack without it runs a runtime of the legacy keys, so `sdlf deploy` moves the items around the deploy.
 */
export const METADATA_KEY_LAYOUT = { output: 'MetadataKeyLayout', value: 'team' } as const;

/**
 * Key schema of the metadata tables, shared by the CDK app (which creates them) and the adapters (which read
 * them). All keys are strings, and every partition key is a key of {@link metadataKeyOf}: it starts with the team.
 */
export const METADATA_KEYS = {
  /** `ObjectMetadata`: partition key `id` = `{team}/s3://bucket/key`. */
  objectMetadata: { partitionKey: 'id' },
  /** `Datasets`: partition key `name` = `{team}/{dataset}`. */
  datasets: { partitionKey: 'name' },
  /** `Pipelines`: partition key `name` = `{team}/{pipeline}-stage-{a|b}`. */
  pipelines: { partitionKey: 'name' },
  /**
   * `PipelineExecutionHistory`: partition key `id` = `{team}/{execution id}`, TTL on `expiresAt` (epoch seconds).
   */
  executionHistory: {
    partitionKey: 'id',
    ttlAttribute: 'expiresAt',
    /**
     * Global secondary index listing a dataset's executions, newest first (`ScanIndexForward: false`); its partition
     * key `datasetKey` = `{team}/{dataset}`.
     */
    datasetIndex: { name: 'dataset-started-index', partitionKey: 'datasetKey', sortKey: 'startedAt' },
  },
} as const;
