/**
 * The ports of the pipeline core. Lambda handlers implement them with the AWS SDK (`src/runtime/aws`), the local
 * runner with files and DuckDB (`src/local`); tests use either. Core functions receive them in a {@link
 * PipelineDeps}-style object and never import an SDK.
 */
import type { DatasetParameter } from '../contract.js';
import type {
  DatasetItem,
  ExecutionItem,
  ExecutionStatus,
  NewExecution,
  ObjectMetadataItem,
  PipelineRun,
  TransitionDetails,
} from './model.js';

/** What is known of a stored object without reading it. */
export interface ObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag?: string;
  readonly versionId?: string;
  /** ISO time of the last change. */
  readonly lastModified?: string;
}

/** A body to store: text, bytes or a stream of bytes (read once). */
export type ObjectBody = string | Uint8Array | AsyncIterable<Uint8Array>;

/** Options of {@link ObjectStore.put}. */
export interface PutObjectOptions {
  /** MIME type. @default 'application/octet-stream' */
  readonly contentType?: string;
}

/** An object missing from its store (a key that was never written, or was deleted). */
export class ObjectNotFoundError extends Error {
  /** Machine-readable reason. */
  readonly code = 'OBJECT_NOT_FOUND';

  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly versionId?: string,
    reason?: string,
  ) {
    super(
      versionId
        ? `Version ${versionId} of object s3://${bucket}/${key} does not exist${reason ? ` (${reason})` : ''}.`
        : `Object s3://${bucket}/${key} does not exist.`,
    );
    this.name = 'ObjectNotFoundError';
  }
}

/** Options of {@link ObjectStore.get}. */
export interface GetObjectOptions {
  /** Reads this version of the object rather than the latest. */
  readonly versionId?: string;
}

/** Object storage: S3 on AWS, a folder per bucket locally. */
export interface ObjectStore {
  /**
   * Opens an object's bytes as a stream: the latest version, or `options.versionId`. Rejects with
   * {@link ObjectNotFoundError} when the object, or that version of it, does not exist.
   */
  get(bucket: string, key: string, options?: GetObjectOptions): Promise<AsyncIterable<Uint8Array>>;
  /**
   * Stores an object, replacing any previous one. A stream body is written as it arrives (never buffered whole);
   * when the stream fails, the call rejects and no object (and no partial object) is left at `key`.
   */
  put(bucket: string, key: string, body: ObjectBody, options?: PutObjectOptions): Promise<ObjectInfo>;
  /** Lists the objects under a prefix, in key order. */
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  /** Describes an object, or returns undefined when it does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** Removes an object (its latest version, in a versioned bucket); nothing happens when it does not exist. */
  delete(bucket: string, key: string): Promise<void>;
}

/** Options of {@link MetadataStore.listExecutions}. */
export interface ListExecutionsOptions {
  readonly team?: string;
  /** Needs `team`. */
  readonly dataset?: string;
  /** Most executions to return, newest first. */
  readonly limit: number;
}

/** Result of {@link MetadataStore.startExecution}. */
export interface StartExecutionResult {
  /** The item as stored after the call. */
  readonly execution: ExecutionItem;
  /**
   * True when an item with this id already existed and was not restarted (a redelivered message or a retried
   * step): the caller must not start the work a second time.
   */
  readonly existed: boolean;
}

/** A status change that the stored execution does not allow (e.g. SUCCEEDED → PROCESSING). */
export class InvalidTransitionError extends Error {
  /** Machine-readable reason. */
  readonly code = 'INVALID_TRANSITION';

  constructor(
    readonly executionId: string,
    readonly from: ExecutionStatus | undefined,
    readonly to: ExecutionStatus,
  ) {
    super(
      from === undefined
        ? `Execution ${executionId} does not exist; cannot move it to ${to}.`
        : `Execution ${executionId} is ${from}; it cannot move to ${to}.`,
    );
    this.name = 'InvalidTransitionError';
  }
}

/** An `ObjectMetadata` item of a staged object, which names its team and the raw object it was made from. */
export type StagedObjectItem = ObjectMetadataItem & { readonly team: string; readonly source: string };

/**
 * The metadata tables: DynamoDB on AWS, JSON files locally. Every item is stored under a key of its team
 * (`metadataKeyOf` in `contract.ts`): each method names the team whose keys it reads or writes, or takes an item that
 * names it, and never touches another team's keys, so a team pipeline's roles need no access to them.
 */
export interface MetadataStore {
  /**
   * Writes an `ObjectMetadata` item under the keys of `team` (the team whose pipeline recorded it: an object outside
   * every dataset may name another team, or none), replacing the previous one of the same id.
   */
  putObject(team: string, item: ObjectMetadataItem): Promise<void>;
  /**
   * Writes the `ObjectMetadata` item of a staged object, atomically, unless its key is recorded as staged from
   * another raw object (an item with another `source`). Returns that other source, having written nothing, or
   * `undefined` once written. Items without a `source` (written before it was recorded) are replaced.
   */
  putStagedObject(item: StagedObjectItem): Promise<string | undefined>;
  /** Reads a `Datasets` item. */
  getDataset(team: string, dataset: string): Promise<DatasetItem | undefined>;
  /** Writes a `Datasets` item, replacing the previous one. */
  putDataset(item: DatasetItem): Promise<void>;
  /**
   * Creates an execution in status STARTED, atomically: when the id exists and cannot be restarted (see
   * `canRestart`), nothing changes and `existed` is true. When it exists and is FAILED (a redrive) or INTERRUPTED
   * (a killed local run), it restarts it: status STARTED, `attempt` + 1, a
   * new `startedAt`, the failure cleared, its transitions kept.
   */
  startExecution(execution: NewExecution, at: string): Promise<StartExecutionResult>;
  /**
   * Moves an execution to `status`, appending a transition, atomically and only along
   * `ALLOWED_TRANSITIONS`; rejects with {@link InvalidTransitionError} otherwise. Moving to the status it already
   * has is a no-op that returns the stored item. A terminal status sets `endedAt` and `durationMs`.
   */
  transition(team: string, executionId: string, status: ExecutionStatus, details: TransitionDetails): Promise<ExecutionItem>;
  /** Reads an execution of `team`. */
  getExecution(team: string, executionId: string): Promise<ExecutionItem | undefined>;
  /**
   * Lists executions newest first, of a dataset (one query of the dataset index), a team or all (these read the
   * whole table: for the CLI, never for a team pipeline's role).
   */
  listExecutions(options: ListExecutionsOptions): Promise<ExecutionItem[]>;
  /**
   * Keeps the `Pipelines` item of a stage up to date with its last run, and the `lastStageA`/`lastStageB` field
   * of the dataset's `Datasets` item (when that item exists), without touching its other fields.
   */
  recordPipelineRun(run: PipelineRun): Promise<void>;
  /**
   * Hands staged objects (`ObjectMetadata` ids) to a stage B batch: sets each item's `batchId`, atomically per
   * item, unless another batch holds it already. Returns the batch that holds each object after the call: `batchId`,
   * the earlier batch, or `undefined` for an object without an item (nothing to hold it by).
   */
  claimStaged(team: string, objectIds: readonly string[], batchId: string): Promise<Map<string, string | undefined>>;
  /** Tells which batch holds each staged object; objects held by none (or without an item) are left out. */
  stagedClaims(team: string, objectIds: readonly string[]): Promise<Map<string, string>>;
  /** Gives staged objects back from a batch (a failed one): clears `batchId` where it is still `batchId`. */
  releaseStaged(team: string, objectIds: readonly string[], batchId: string): Promise<void>;
}

/** A message to send to a FIFO queue. */
export interface OutgoingMessage {
  /** JSON text. */
  readonly body: string;
  /** FIFO message group: messages of one group are delivered in order. Absent for a standard queue. */
  readonly groupId?: string;
  /**
   * FIFO deduplication id: a second message with the same id within 5 minutes is dropped by the queue. Absent for
   * a standard queue.
   */
  readonly deduplicationId?: string;
}

/** A message received from a queue. */
export interface ReceivedMessage {
  readonly id: string;
  readonly body: string;
  /** Handle to delete or release the message. */
  readonly receiptHandle: string;
  readonly groupId?: string;
  /** Times the message was received, this time included. */
  readonly receiveCount: number;
}

/** Options of {@link QueuePort.receive}. */
export interface ReceiveOptions {
  /** Most messages to receive (the port pages through the queue's 10-per-call limit). */
  readonly max: number;
  /** Seconds the received messages stay hidden from other consumers; when omitted, the queue's own timeout applies. */
  readonly visibilityTimeoutSeconds?: number;
}

/** FIFO queues: SQS on AWS, in-memory or files locally. */
export interface QueuePort {
  /** Sends messages in order (pages through the 10-per-call limit); rejects if any is not accepted. */
  send(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Receives up to `max` messages; returns fewer (or none) when the queue has fewer visible. */
  receive(queueUrl: string, options: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Deletes received messages. */
  delete(queueUrl: string, receiptHandles: readonly string[]): Promise<void>;
  /** Makes received messages visible again at once. */
  release(queueUrl: string, receiptHandles: readonly string[]): Promise<void>;
}

/** Reads dataset configurations (the SSM `DatasetParameter`s on AWS, the project's config locally). */
export interface DatasetConfigSource {
  /** Reads one dataset's configuration; undefined when the dataset is not registered. */
  get(team: string, dataset: string): Promise<DatasetParameter | undefined>;
  /** Lists the configurations of a team's datasets. */
  list(team: string): Promise<DatasetParameter[]>;
}

/** Result of {@link WorkflowPort.start}. */
export interface StartWorkflowResult {
  /** Id of the workflow run (an execution ARN on AWS). */
  readonly runId: string;
  /** False when a run of this name already existed (a duplicate start): nothing new was started. */
  readonly started: boolean;
}

/** Starts state machine executions: Step Functions on AWS, the in-process runner locally. */
export interface WorkflowPort {
  /** Starts a run named `name` (unique per state machine) with a JSON input; idempotent per name. */
  start(stateMachine: string, name: string, input: unknown): Promise<StartWorkflowResult>;
}

/** Logging the core does: structured, with keys. The Powertools logger satisfies it. */
export interface CoreLogger {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
  debug(message: string, ...extra: Array<Record<string, unknown>>): void;
}

/** Returns the current time; core functions call it each time they stamp something. */
export type Clock = () => Date;

/** Options of {@link cachedDatasetConfig}. */
export interface DatasetConfigCacheOptions {
  /** How long a found configuration is reused. @default 60_000 ms */
  readonly ttlMs?: number;
  /**
   * How long "not registered" is reused: short, so objects of a dataset that was just deployed are not dropped
   * for long. @default 5_000 ms
   */
  readonly unknownTtlMs?: number;
  /** @default () => new Date() */
  readonly clock?: Clock;
}

/**
 * Wraps a {@link DatasetConfigSource} so each dataset is read at most once per TTL (per Lambda container). An
 * unknown dataset is cached for a shorter time, so a stream of events under a wrong prefix does not hammer SSM.
 * A failed read is not cached.
 */
export function cachedDatasetConfig(source: DatasetConfigSource, options: DatasetConfigCacheOptions = {}): DatasetConfigSource {
  const ttlMs = options.ttlMs ?? 60_000;
  const unknownTtlMs = options.unknownTtlMs ?? 5_000;
  const clock = options.clock ?? (() => new Date());
  const one = new Map<string, { at: number; value: Promise<DatasetParameter | undefined>; found?: boolean }>();
  const many = new Map<string, { at: number; value: Promise<DatasetParameter[]> }>();
  const age = (at: number) => clock().getTime() - at;
  return {
    get(team, dataset) {
      const key = `${team}/${dataset}`;
      const hit = one.get(key);
      if (hit && age(hit.at) < (hit.found === false ? unknownTtlMs : ttlMs)) return hit.value;
      const value = source.get(team, dataset);
      const entry: { at: number; value: Promise<DatasetParameter | undefined>; found?: boolean } = {
        at: clock().getTime(),
        value,
      };
      one.set(key, entry);
      value.then(
        (config) => {
          entry.found = config !== undefined;
        },
        () => one.delete(key),
      );
      return value;
    },
    list(team) {
      const hit = many.get(team);
      if (hit && age(hit.at) < ttlMs) return hit.value;
      const value = source.list(team);
      many.set(team, { at: clock().getTime(), value });
      value.catch(() => many.delete(team));
      return value;
    },
  };
}
