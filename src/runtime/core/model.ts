/**
 * Items of the four metadata tables (the seed's "octagon"), in the shape they are stored in DynamoDB. The local
 * runner keeps the same items in files, so `sdlf status` reads one shape wherever a pipeline ran.
 */
import type { DatasetConfig } from '../../config/model.js';
import { metadataKeyOf } from '../contract.js';

/** Where an object sits in the lake. */
export type ObjectStage = 'raw' | 'stage' | 'analytics';

/** What the pipeline did with an object. */
export type ObjectStatus =
  /** Raw object sent to its team's stage A queue. */
  | 'ROUTED'
  /** Raw object under a prefix that belongs to no registered dataset: recorded and dropped. */
  | 'UNKNOWN_DATASET'
  /** Staged object written by a light transform and queued for stage B. */
  | 'STAGED';

/** An `ObjectMetadata` item: one object version the pipeline has seen. */
export interface ObjectMetadataItem {
  /** `s3://bucket/key` (stored under `{team}/s3://bucket/key`, see `storedObjectItem`). */
  readonly id: string;
  readonly bucket: string;
  readonly key: string;
  readonly stage: ObjectStage;
  readonly status: ObjectStatus;
  readonly team?: string;
  readonly dataset?: string;
  readonly size?: number;
  readonly etag?: string;
  readonly versionId?: string;
  /** Deterministic id of the object version (raw objects). */
  readonly objectId?: string;
  /** Execution that read (raw) or wrote (staged) the object. */
  readonly executionId?: string;
  /** Table of a staged object. */
  readonly table?: string;
  /**
   * Raw object a staged object was made from (`s3://bucket/key`): the owner of its staged key, which no other raw
   * object may overwrite (see {@link MetadataStore.putStagedObject}). Absent on items written before it existed.
   */
  readonly source?: string;
  /** Records in a staged object. */
  readonly records?: number;
  /**
   * Stage B batch a staged object was handed to (see {@link MetadataStore.claimStaged}). Cleared when stage A
   * stages the object again (the item is replaced) or the batch fails and gives it back.
   */
  readonly batchId?: string;
  /** ISO time the item was written. */
  readonly recordedAt: string;
}

/**
 * Status of a pipeline execution. INTERRUPTED is an execution whose run ended before it finished without failing
 * (a local run killed with `kill -9`), as the next local run finds it.
 */
export type ExecutionStatus = 'STARTED' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'INTERRUPTED';

/** Statuses an execution never leaves (except a restart of a FAILED or INTERRUPTED one, see `canRestart`). */
export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'INTERRUPTED'];

/**
 * Status changes an execution may make. A terminal status accepts itself again (a retried step), nothing else;
 * FAILED → STARTED happens only through {@link MetadataStore.startExecution} on a redrive.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  STARTED: ['STARTED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED'],
  PROCESSING: ['PROCESSING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED'],
  SUCCEEDED: ['SUCCEEDED'],
  FAILED: ['FAILED'],
  INTERRUPTED: ['INTERRUPTED'],
};

/** One status change of an execution. */
export interface ExecutionTransition {
  readonly status: ExecutionStatus;
  /** ISO time of the change, taken when the step ran. */
  readonly at: string;
  /** Attempt the change belongs to (1, then 2… after redrives). */
  readonly attempt: number;
  /** Short note: the step that made the change. */
  readonly note?: string;
}

/** Why an execution failed. */
export interface ExecutionFailure {
  /** Error name (`RecordParseError`, `States.Timeout`, `Glue.FAILED`…). */
  readonly error: string;
  /** The message or cause, truncated to a few KB. */
  readonly cause: string;
}

/** An output of an execution: a staged object (stage A) or an analytics table (stage B). */
export interface ExecutionOutput {
  readonly bucket: string;
  /** Key of the staged object, or the table's prefix. */
  readonly key: string;
  readonly table: string;
  readonly records?: number;
}

/** A `PipelineExecutionHistory` item. */
export interface ExecutionItem {
  /** Execution id: deterministic, so a redelivered message finds the same item (stored under `{team}/{id}`). */
  readonly id: string;
  readonly stage: 'a' | 'b';
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  /** `{team}/{dataset}`: partition key of the dataset index. */
  readonly datasetKey: string;
  readonly status: ExecutionStatus;
  /** 1 for the first run, then one more per redrive of a failed execution. */
  readonly attempt: number;
  /** ISO time of the (latest attempt's) start: sort key of the dataset index. */
  readonly startedAt: string;
  /** ISO time of the last change. */
  readonly updatedAt: string;
  /** ISO time the execution reached SUCCEEDED or FAILED. */
  readonly endedAt?: string;
  /** Milliseconds from `startedAt` to `endedAt`. */
  readonly durationMs?: number;
  readonly transitions: readonly ExecutionTransition[];
  /** Stage A: the raw object (`s3://bucket/key`); stage B: the manifest URI. */
  readonly source: string;
  /** Stage B: the staged keys of the batch. */
  readonly keys?: readonly string[];
  readonly outputs?: readonly ExecutionOutput[];
  readonly failure?: ExecutionFailure;
  /** Epoch seconds after which DynamoDB deletes the item (TTL). */
  readonly expiresAt: number;
}

/** What {@link MetadataStore.startExecution} creates. */
export type NewExecution = Omit<ExecutionItem, 'status' | 'attempt' | 'updatedAt' | 'transitions' | 'endedAt' | 'durationMs'>;

/** Extra fields of a status change. */
export interface TransitionDetails {
  /** ISO time of the change. */
  readonly at: string;
  readonly note?: string;
  readonly outputs?: readonly ExecutionOutput[];
  readonly failure?: ExecutionFailure;
}

/** The last run of a stage, as kept on `Pipelines` and `Datasets` items. */
export interface LastExecution {
  readonly executionId: string;
  readonly dataset: string;
  readonly status: ExecutionStatus;
  /** ISO time the run ended. */
  readonly at: string;
  readonly durationMs?: number;
}

/** A `Pipelines` item: one stage of a team's pipeline. */
export interface PipelineItem {
  /** `{team}/{pipeline}-stage-{a|b}`. */
  readonly name: string;
  readonly team: string;
  readonly pipeline: string;
  readonly stage: 'a' | 'b';
  readonly lastExecution: LastExecution;
  /** ISO time of the last update. */
  readonly updatedAt: string;
}

/** A `Datasets` item: a dataset's registration and its latest runs. */
export interface DatasetItem extends DatasetConfig {
  /** `{team}/{dataset}`. */
  readonly name: string;
  /** Version of the configuration the item was written from. */
  readonly version: number;
  readonly lastStageA?: LastExecution;
  readonly lastStageB?: LastExecution;
  /** ISO time of the last update. */
  readonly updatedAt: string;
}

/** A finished run of a stage, for {@link MetadataStore.recordPipelineRun}. */
export interface PipelineRun {
  readonly team: string;
  readonly pipeline: string;
  readonly stage: 'a' | 'b';
  readonly execution: LastExecution;
}

/** `{team}/{dataset}`: name of a `Datasets` item and partition key of the dataset index. */
export function datasetKeyOf(team: string, dataset: string): string {
  return metadataKeyOf(team, dataset);
}

/** `{team}/{pipeline}-stage-{a|b}`: name of a `Pipelines` item. */
export function pipelineKeyOf(team: string, pipeline: string, stage: 'a' | 'b'): string {
  return metadataKeyOf(team, `${pipeline}-stage-${stage}`);
}

/**
 * `team-dataset`: the FIFO message group of a dataset's messages on its team pipeline's stage A queue and dead-letter
 * queues (unchanged by the metadata key layout, so messages in flight keep their order).
 */
export function datasetGroupOf(team: string, dataset: string): string {
  return `${team}-${dataset}`;
}

/** `s3://bucket/key`: id of an `ObjectMetadata` item. */
export function objectUri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
