/**
 * Stage B (heavy transform): batch each dataset's staged keys from its stage B queue, start one execution per
 * batch (the Glue job reads the batch's manifest), and record the tables it wrote. This module holds the steps
 * the stage B state machine runs; the batching and the trigger are in `stage-b-batching.ts` and
 * `stage-b-trigger.ts`, re-exported here.
 */
import type { StageBExecutionInput, StageBMessage } from '../contract.js';
import type { PipelineDeps } from './deps.js';
import { failureOf } from './executions.js';
import { deduplicationIdOf, jobResultKeyOf, parseS3Uri } from './ids.js';
import { type ExecutionItem, type ExecutionOutput, objectUri } from './model.js';
import { recordRun, registerDataset, startExecutionRecord } from './records.js';
import { failExecution, type OnErrorResult, type PreUpdateOptions } from './stage-a.js';
import { readTextIfExists } from './stage-b-files.js';

export {
  type BatchLimits,
  type BatchPlan,
  groupStagedItems,
  type PlannedBatch,
  parseStageBMessage,
  planBatches,
  type StagedItem,
  sliceBatches,
} from './stage-b-batching.js';
export { type DatasetTriggerResult, type TriggerStageBOptions, triggerStageB } from './stage-b-trigger.js';

/** Stage B pre-update: records the execution (or restarts a FAILED one) and moves it to PROCESSING. */
export async function stageBPreUpdate(
  execution: StageBExecutionInput,
  deps: Pick<PipelineDeps, 'metadata' | 'configs' | 'logger' | 'clock'>,
  options: PreUpdateOptions,
): Promise<ExecutionItem> {
  const item = await startExecutionRecord(
    deps,
    {
      id: execution.executionId,
      stage: 'b',
      team: execution.team,
      dataset: execution.dataset,
      pipeline: execution.pipeline,
      source: execution.manifest,
      keys: execution.keys,
    },
    options.ttlDays,
  );
  await registerDataset(deps, execution.team, execution.dataset);
  const processing = await deps.metadata.transition(item.team, item.id, 'PROCESSING', {
    at: deps.clock().toISOString(),
    note: 'pre-update',
  });
  deps.logger.info('Stage B execution started', {
    executionId: item.id,
    attempt: processing.attempt,
    keys: execution.keys.length,
  });
  return processing;
}

/** One table the Glue runner wrote, as listed in the job result beside the manifest. */
export interface StageBTableResult {
  readonly table: string;
  /** `s3://analytics/{team}/{dataset}/{table}/`. */
  readonly location: string;
  readonly partitionBy?: readonly string[];
  /** Partition values written, as `col=value/…` paths. */
  readonly partitions?: readonly string[];
  readonly files?: number;
  readonly records?: number;
}

/** The job result file: `manifests/{team}/{dataset}/{executionId}.result.json`. */
export interface StageBJobResult {
  readonly executionId: string;
  readonly tables: readonly StageBTableResult[];
  /** Statements skipped because the batch lacked a table they read. */
  readonly skipped?: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

/**
 * Stage B post-update: reads the job result the Glue runner wrote beside the manifest, marks the execution
 * SUCCEEDED with the tables as outputs, and updates `Pipelines` and `Datasets`. A missing result file (a custom
 * `main.py` that does not write one) records no outputs and a warning.
 */
export async function stageBPostUpdate(
  execution: StageBExecutionInput,
  jobRun: unknown,
  deps: Pick<PipelineDeps, 'metadata' | 'store' | 'logger' | 'clock'>,
): Promise<ExecutionItem> {
  const manifest = parseS3Uri(execution.manifest);
  const resultKey = jobResultKeyOf(manifest.key);
  const outputs: ExecutionOutput[] = [];
  const text = await readTextIfExists(deps.store, manifest.bucket, resultKey);
  if (text !== undefined) {
    const result = JSON.parse(text) as StageBJobResult;
    for (const { name, reason } of result.skipped ?? []) {
      deps.logger.warn('The heavy transform skipped a statement', {
        executionId: execution.executionId,
        statement: name,
        reason,
      });
    }
    for (const table of result.tables ?? []) {
      const location = parseS3Uri(table.location.endsWith('/') ? table.location : `${table.location}/`);
      outputs.push({
        bucket: location.bucket,
        key: location.key,
        table: table.table,
        ...(table.records === undefined ? {} : { records: table.records }),
      });
    }
  } else {
    deps.logger.warn('The heavy transform wrote no result file; no output tables recorded', {
      executionId: execution.executionId,
      expected: `s3://${manifest.bucket}/${resultKey}`,
    });
  }
  const jobRunId = (jobRun as { Id?: unknown } | undefined)?.Id;
  const done = await deps.metadata.transition(execution.team, execution.executionId, 'SUCCEEDED', {
    at: deps.clock().toISOString(),
    note: typeof jobRunId === 'string' ? `post-update (job run ${jobRunId})` : 'post-update',
    outputs,
  });
  await recordRun(deps, execution, done);
  deps.logger.info('Stage B execution succeeded', { executionId: done.id, tables: outputs.map((o) => o.table) });
  return done;
}

/** Options of {@link stageBOnError}. */
export interface StageBOnErrorOptions {
  readonly ttlDays: number;
  /** Bucket of the batch's staged keys. */
  readonly stageBucket: string;
}

/**
 * Stage B error: puts the batch's staged keys on the dataset's stage B dead-letter queue first (one message per
 * key, so a redrive re-queues them for a later batch), gives the objects back from the batch, then records the
 * execution as FAILED with the cause and updates `Pipelines` and `Datasets`. When the execution had already
 * SUCCEEDED it changes nothing.
 */
export async function stageBOnError(
  execution: StageBExecutionInput,
  error: unknown,
  deps: Pick<PipelineDeps, 'metadata' | 'queue' | 'configs' | 'logger' | 'clock'>,
  options: StageBOnErrorOptions,
): Promise<OnErrorResult> {
  const failure = failureOf(error);
  const existing = await deps.metadata.getExecution(execution.team, execution.executionId);
  if (existing?.status === 'SUCCEEDED') {
    deps.logger.warn('A duplicate stage B run failed; the execution already succeeded', { executionId: existing.id, ...failure });
    return { executionId: existing.id, status: 'SUCCEEDED', ...failure };
  }
  const attempt = existing?.attempt ?? 1;
  const config = await deps.configs.get(execution.team, execution.dataset);
  if (config) {
    await deps.queue.send(
      config.stageBDeadLetterQueueUrl,
      execution.keys.map((key) => {
        const message: StageBMessage = {
          bucket: options.stageBucket,
          key,
          team: execution.team,
          dataset: execution.dataset,
          sourceExecutionId: execution.executionId,
        };
        return {
          body: JSON.stringify(message),
          groupId: deduplicationIdOf(message.bucket, key).slice(0, 32),
          deduplicationId: deduplicationIdOf('dlq', execution.executionId, attempt, key),
        };
      }),
    );
  } else {
    deps.logger.error('Dataset is no longer registered; the failed batch keys stay listed in the execution history', {
      team: execution.team,
      dataset: execution.dataset,
    });
  }
  // The keys are on the DLQ: give the objects back, so a redrive plans them into a new batch.
  await deps.metadata.releaseStaged(
    execution.team,
    execution.keys.map((key) => objectUri(options.stageBucket, key)),
    execution.executionId,
  );
  const failed = await failExecution(deps, existing, {
    id: execution.executionId,
    stage: 'b',
    team: execution.team,
    dataset: execution.dataset,
    pipeline: execution.pipeline,
    source: execution.manifest,
    keys: execution.keys,
    failure,
    ttlDays: options.ttlDays,
  });
  await recordRun(deps, execution, failed);
  deps.logger.error('Stage B execution failed', { executionId: failed.id, ...failure });
  return { executionId: failed.id, status: 'FAILED', ...failure };
}
