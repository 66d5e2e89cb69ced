/**
 * Stage B (heavy transform): batch each dataset's staged keys from its stage B queue, start one execution per
 * batch (the Glue job reads the batch's manifest), and record the tables it wrote.
 */
import type { DatasetParameter, StageBExecutionInput, StageBMessage } from '../contract.js';
import { MalformedInputError, type PipelineDeps, parseObject, requireString } from './deps.js';
import { failureOf } from './executions.js';
import { batchIdOf, deduplicationIdOf, jobResultKeyOf, manifestKeyOf, parseS3Uri, workflowNameOf } from './ids.js';
import { datasetKeyOf, type ExecutionItem, type ExecutionOutput } from './model.js';
import type { ReceivedMessage } from './ports.js';
import { recordRun, registerDataset, startExecutionRecord } from './records.js';
import { failExecution, nextAttempt, type OnErrorResult, type PreUpdateOptions } from './stage-a.js';

const MESSAGE = 'stage B message';

/** Reads a stage B queue message body; throws {@link MalformedInputError} naming the bad field. */
export function parseStageBMessage(body: string): StageBMessage {
  const value = parseObject(body, MESSAGE);
  return {
    bucket: requireString(value, 'bucket', MESSAGE),
    key: requireString(value, 'key', MESSAGE),
    team: requireString(value, 'team', MESSAGE),
    dataset: requireString(value, 'dataset', MESSAGE),
    sourceExecutionId: requireString(value, 'sourceExecutionId', MESSAGE),
  };
}

/** Batch limits of a dataset. */
export interface BatchLimits {
  /** Fewest staged objects worth a run; fewer wait for the next trigger. */
  readonly minItems: number;
  /** Most staged objects in one run. */
  readonly maxItems: number;
}

/** One planned stage B run. */
export interface PlannedBatch {
  /** Distinct staged objects, in arrival order. */
  readonly objects: ReadonlyArray<{ readonly bucket: string; readonly key: string }>;
  /** Distinct stage A executions that staged them, sorted: part of the batch's identity, so a corrected upload
   * (a new stage A execution writing the same staged key) starts a new stage B run. */
  readonly sources: readonly string[];
  /** Every message the batch consumes (duplicates of a key included). */
  readonly receiptHandles: readonly string[];
}

/** How {@link planBatches} splits received messages. */
export interface BatchPlan {
  readonly batches: readonly PlannedBatch[];
  /** Messages left for a later run (fewer than `minItems` remained). */
  readonly held: readonly ReceivedMessage[];
  /** Messages that are not stage B messages of this dataset, with the reason. */
  readonly invalid: ReadonlyArray<{ readonly message: ReceivedMessage; readonly reason: string }>;
}

/**
 * Splits received stage B messages into batches of at most `maxItems` distinct staged objects. A remainder of
 * fewer than `minItems` objects (or all of them, when there are fewer) is held for a later run. Messages for the
 * same object are folded into one item; messages that do not parse, or belong to another dataset, are invalid.
 * Throws for limits that are not positive integers with `minItems <= maxItems`.
 */
export function planBatches(
  messages: readonly ReceivedMessage[],
  limits: BatchLimits,
  dataset?: { readonly team: string; readonly dataset: string },
): BatchPlan {
  const { minItems, maxItems } = limits;
  if (!Number.isInteger(minItems) || !Number.isInteger(maxItems) || minItems < 1 || maxItems < minItems) {
    throw new Error(`Invalid stage B batch limits: min ${minItems}, max ${maxItems} (need 1 <= min <= max).`);
  }
  const invalid: Array<{ message: ReceivedMessage; reason: string }> = [];
  const groups = new Map<
    string,
    { object: { bucket: string; key: string }; messages: ReceivedMessage[]; sources: Set<string> }
  >();
  for (const message of messages) {
    let parsed: StageBMessage;
    try {
      parsed = parseStageBMessage(message.body);
    } catch (error) {
      if (!(error instanceof MalformedInputError)) throw error;
      invalid.push({ message, reason: error.message });
      continue;
    }
    if (dataset && (parsed.team !== dataset.team || parsed.dataset !== dataset.dataset)) {
      invalid.push({
        message,
        reason: `the message is for ${parsed.team}/${parsed.dataset}, not ${dataset.team}/${dataset.dataset}`,
      });
      continue;
    }
    const id = `s3://${parsed.bucket}/${parsed.key}`;
    const group = groups.get(id) ?? {
      object: { bucket: parsed.bucket, key: parsed.key },
      messages: [],
      sources: new Set<string>(),
    };
    group.messages.push(message);
    group.sources.add(parsed.sourceExecutionId);
    groups.set(id, group);
  }
  const items = [...groups.values()];
  const batches: PlannedBatch[] = [];
  let at = 0;
  while (items.length - at >= minItems && at < items.length) {
    const slice = items.slice(at, at + maxItems);
    batches.push({
      objects: slice.map((item) => item.object),
      sources: [...new Set(slice.flatMap((item) => [...item.sources]))].sort(),
      receiptHandles: slice.flatMap((item) => item.messages.map((m) => m.receiptHandle)),
    });
    at += slice.length;
  }
  const held = items.slice(at).flatMap((item) => item.messages);
  return { batches, held, invalid };
}

/** Options of {@link triggerStageB}. */
export interface TriggerStageBOptions {
  readonly team: string;
  readonly pipeline: string;
  /** The team pipeline's stage B state machine. */
  readonly stateMachineArn: string;
  /** Bucket of the batch manifests. */
  readonly artifactsBucket: string;
  /** Most batches started per dataset in one trigger. @default 10 */
  readonly maxBatchesPerDataset?: number;
  /** Seconds received messages stay hidden while batches start. @default 300 */
  readonly visibilityTimeoutSeconds?: number;
}

/** What {@link triggerStageB} did for one dataset. */
export interface DatasetTriggerResult {
  readonly team: string;
  readonly dataset: string;
  /** Executions started (or found already started). */
  readonly executions: ReadonlyArray<{
    readonly executionId: string;
    readonly name: string;
    readonly started: boolean;
    readonly keys: number;
  }>;
  /** Messages left for a later run. */
  readonly held: number;
  /** Invalid messages moved to the dead-letter queue. */
  readonly invalid: number;
  /** Batches that could not start (their messages become visible again), with the reason. */
  readonly failed: ReadonlyArray<{ readonly executionId: string; readonly error: string }>;
}

/**
 * Stage B trigger: for each dataset of the team registered to this pipeline, receives its staged keys, plans
 * batches ({@link planBatches}), writes each batch's manifest (a JSON list of `s3://` URIs) to the artifacts bucket
 * and starts the stage B workflow with the batch id as name; then deletes the batch's messages. A batch that
 * fails to start keeps its messages (they reappear after the visibility timeout); a batch whose execution
 * already exists is not started twice. Each dataset is handled on its own: one failing does not stop the others.
 */
export async function triggerStageB(
  deps: Pick<PipelineDeps, 'configs' | 'queue' | 'store' | 'metadata' | 'workflow' | 'logger'>,
  options: TriggerStageBOptions,
): Promise<DatasetTriggerResult[]> {
  const configs = (await deps.configs.list(options.team)).filter((config) => config.pipeline === options.pipeline);
  const results: DatasetTriggerResult[] = [];
  for (const config of configs) results.push(await triggerDataset(config));
  return results;

  async function triggerDataset(config: DatasetParameter): Promise<DatasetTriggerResult> {
    const { team, dataset } = config;
    const max = Math.min(config.maxItemsProcess * (options.maxBatchesPerDataset ?? 10), 10_000);
    const messages = await deps.queue.receive(config.stageBQueueUrl, {
      max,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 300,
    });
    const plan = planBatches(messages, { minItems: config.minItemsProcess, maxItems: config.maxItemsProcess }, config);
    if (plan.invalid.length > 0) {
      await deps.queue.send(
        config.stageBDeadLetterQueueUrl,
        plan.invalid.map(({ message }) => ({
          body: message.body,
          groupId: datasetKeyOf(team, dataset),
          deduplicationId: deduplicationIdOf('invalid', message.id),
        })),
      );
      await deps.queue.delete(
        config.stageBQueueUrl,
        plan.invalid.map(({ message }) => message.receiptHandle),
      );
      for (const { reason } of plan.invalid)
        deps.logger.error('Moved an invalid stage B message to the DLQ', { team, dataset, reason });
    }
    if (plan.held.length > 0) {
      await deps.queue.release(
        config.stageBQueueUrl,
        plan.held.map((m) => m.receiptHandle),
      );
    }
    const executions: Array<{ executionId: string; name: string; started: boolean; keys: number }> = [];
    const failed: Array<{ executionId: string; error: string }> = [];
    for (const batch of plan.batches) {
      const uris = batch.objects.map((o) => `s3://${o.bucket}/${o.key}`);
      const executionId = batchIdOf(team, dataset, uris, batch.sources);
      try {
        const attempt = await nextAttempt(deps, executionId);
        if (attempt === undefined) {
          executions.push({ executionId, name: executionId, started: false, keys: uris.length });
        } else {
          const manifestKey = manifestKeyOf(team, dataset, executionId);
          await deps.store.put(options.artifactsBucket, manifestKey, `${JSON.stringify(uris, null, 1)}\n`, {
            contentType: 'application/json',
          });
          const input: StageBExecutionInput = {
            stage: 'b',
            executionId,
            team,
            dataset,
            pipeline: config.pipeline,
            glueJob: config.glueJob,
            glueDatabase: config.glueDatabase,
            manifest: `s3://${options.artifactsBucket}/${manifestKey}`,
            keys: batch.objects.map((o) => o.key),
          };
          const name = workflowNameOf(executionId, attempt);
          const { started } = await deps.workflow.start(options.stateMachineArn, name, input);
          executions.push({ executionId, name, started, keys: uris.length });
        }
        await deps.queue.delete(config.stageBQueueUrl, batch.receiptHandles);
        deps.logger.info('Stage B batch handed over', { team, dataset, executionId, keys: uris.length });
      } catch (error) {
        failed.push({ executionId, error: (error as Error).message });
        deps.logger.error('Stage B batch could not start; its messages will be retried', {
          team,
          dataset,
          executionId,
          error: (error as Error).message,
        });
        await deps.queue.release(config.stageBQueueUrl, batch.receiptHandles).catch(() => undefined);
      }
    }
    return { team, dataset, executions, held: plan.held.length, invalid: plan.invalid.length, failed };
  }
}

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
  const processing = await deps.metadata.transition(item.id, 'PROCESSING', {
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
  if (await deps.store.head(manifest.bucket, resultKey)) {
    const text = await readText(await deps.store.get(manifest.bucket, resultKey));
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
  const done = await deps.metadata.transition(execution.executionId, 'SUCCEEDED', {
    at: deps.clock().toISOString(),
    note: typeof jobRunId === 'string' ? `post-update (job run ${jobRunId})` : 'post-update',
    outputs,
  });
  await recordRun(deps, execution, done);
  deps.logger.info('Stage B execution succeeded', { executionId: done.id, tables: outputs.map((o) => o.table) });
  return done;
}

async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Options of {@link stageBOnError}. */
export interface StageBOnErrorOptions {
  readonly ttlDays: number;
  /** Bucket of the batch's staged keys. */
  readonly stageBucket: string;
}

/**
 * Stage B error: puts the batch's staged keys on the dataset's stage B dead-letter queue first (one message per
 * key, so a redrive re-queues them for a later batch), then records the execution as FAILED with the cause and
 * updates `Pipelines` and `Datasets`. When the execution had already SUCCEEDED it changes nothing.
 */
export async function stageBOnError(
  execution: StageBExecutionInput,
  error: unknown,
  deps: Pick<PipelineDeps, 'metadata' | 'queue' | 'configs' | 'logger' | 'clock'>,
  options: StageBOnErrorOptions,
): Promise<OnErrorResult> {
  const failure = failureOf(error);
  const existing = await deps.metadata.getExecution(execution.executionId);
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
