/**
 * Stage B (heavy transform): batch each dataset's staged keys from its stage B queue, start one execution per
 * batch (the Glue job reads the batch's manifest), and record the tables it wrote.
 */
import {
  type DatasetParameter,
  STAGE_B_RECEIVE_VISIBILITY_SECONDS,
  type StageBExecutionInput,
  type StageBMessage,
  type StageBWakeMessage,
} from '../contract.js';
import { MalformedInputError, type PipelineDeps, parseObject, requireString } from './deps.js';
import { failureOf } from './executions.js';
import { batchIdOf, deduplicationIdOf, jobResultKeyOf, manifestKeyOf, parseS3Uri, workflowNameOf } from './ids.js';
import { datasetKeyOf, type ExecutionItem, type ExecutionOutput, objectUri } from './model.js';
import { ObjectNotFoundError, type ObjectStore, type ReceivedMessage } from './ports.js';
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

/** A staged object received for stage B, with every message that named it. */
export interface StagedItem {
  /** `s3://bucket/key`: the object's `ObjectMetadata` id and its manifest entry. */
  readonly id: string;
  readonly object: { readonly bucket: string; readonly key: string };
  /** Stage A executions that staged it (more than one when a corrected upload re-staged it). */
  readonly sources: ReadonlySet<string>;
  readonly messages: readonly ReceivedMessage[];
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
 * Groups received stage B messages by staged object, in arrival order: messages for the same object are folded
 * into one item; messages that do not parse, or belong to another dataset, are invalid.
 */
export function groupStagedItems(
  messages: readonly ReceivedMessage[],
  dataset?: { readonly team: string; readonly dataset: string },
): Pick<BatchPlan, 'invalid'> & { readonly items: readonly StagedItem[] } {
  const invalid: Array<{ message: ReceivedMessage; reason: string }> = [];
  const groups = new Map<
    string,
    { id: string; object: StagedItem['object']; messages: ReceivedMessage[]; sources: Set<string> }
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
    const group = groups.get(id) ?? { id, object: { bucket: parsed.bucket, key: parsed.key }, messages: [], sources: new Set() };
    group.messages.push(message);
    group.sources.add(parsed.sourceExecutionId);
    groups.set(id, group);
  }
  return { items: [...groups.values()], invalid };
}

/**
 * Splits staged items into batches of at most `maxItems` objects. A remainder of fewer than `minItems` objects
 * (or all of them, when there are fewer) is held for a later run. Throws for limits that are not positive
 * integers with `minItems <= maxItems`.
 */
export function sliceBatches(items: readonly StagedItem[], limits: BatchLimits): Pick<BatchPlan, 'batches' | 'held'> {
  const { minItems, maxItems } = limits;
  if (!Number.isInteger(minItems) || !Number.isInteger(maxItems) || minItems < 1 || maxItems < minItems) {
    throw new Error(`Invalid stage B batch limits: min ${minItems}, max ${maxItems} (need 1 <= min <= max).`);
  }
  const batches: PlannedBatch[] = [];
  let at = 0;
  while (items.length - at >= minItems && at < items.length) {
    const slice = items.slice(at, at + maxItems);
    batches.push({
      objects: slice.map((item) => item.object),
      sources: [...new Set(slice.flatMap((item) => [...item.sources]))].sort(),
      receiptHandles: receiptsOf(slice),
    });
    at += slice.length;
  }
  return { batches, held: items.slice(at).flatMap((item) => item.messages) };
}

/**
 * Splits received stage B messages into batches ({@link groupStagedItems}, then {@link sliceBatches}).
 */
export function planBatches(
  messages: readonly ReceivedMessage[],
  limits: BatchLimits,
  dataset?: { readonly team: string; readonly dataset: string },
): BatchPlan {
  const { items, invalid } = groupStagedItems(messages, dataset);
  return { ...sliceBatches(items, limits), invalid };
}

function receiptsOf(items: readonly StagedItem[]): string[] {
  return items.flatMap((item) => item.messages.map((m) => m.receiptHandle));
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
  /** Seconds received messages stay hidden while batches start. @default {@link STAGE_B_RECEIVE_VISIBILITY_SECONDS} */
  readonly visibilityTimeoutSeconds?: number;
  /** Only this dataset of the team pipeline. @default every dataset registered to the pipeline */
  readonly dataset?: string;
  /**
   * Stage B's wake queue: when a dataset had more staged messages than one run receives, the run wakes the trigger
   * again, so the rest start after one more batching window instead of waiting for the next arrival.
   * @default none
   */
  readonly wakeQueueUrl?: string;
  /**
   * Start now: a batch needs one staged object, not the dataset's `minItemsProcess` (batches still hold at most
   * `maxItemsProcess`). What `sdlf trigger` asks for. @default false
   */
  readonly now?: boolean;
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
    /** True for a batch an earlier trigger planned and claimed but did not finish handing over. */
    readonly resumed?: boolean;
  }>;
  /** Messages left for a later run. */
  readonly held: number;
  /** Invalid messages moved to the dead-letter queue. */
  readonly invalid: number;
  /** Batches that could not start (their messages become visible again), with the reason. */
  readonly failed: ReadonlyArray<{ readonly executionId: string; readonly error: string }>;
  /** True when the run received as many messages as it may: more may wait on the queue for another run. */
  readonly more: boolean;
}

type TriggerDeps = Pick<PipelineDeps, 'configs' | 'queue' | 'store' | 'metadata' | 'workflow' | 'logger'>;

/**
 * Stage B trigger: for each dataset of the team registered to this pipeline, receives its staged keys, plans
 * batches ({@link planBatches}) and hands each one over: writes its manifest (a JSON list of `s3://` URIs) to the
 * artifacts bucket, claims its staged objects ({@link MetadataStore.claimStaged}), starts the stage B workflow with
 * the batch id as name, then deletes the batch's messages.
 *
 * Each step can be repeated without harm, so a trigger that stops anywhere (a crash, a timeout) loses nothing and
 * processes nothing twice: its messages reappear after the visibility timeout, and objects that a batch already
 * claimed go back to that batch (its manifest is read back and it is started under the same name, which Step
 * Functions runs once) instead of into a new batch. A message for an object whose batch already ran (a
 * duplicate) is deleted. A batch that fails to start keeps its messages. Each dataset is handled on its own: one
 * failing does not stop the others.
 */
export async function triggerStageB(deps: TriggerDeps, options: TriggerStageBOptions): Promise<DatasetTriggerResult[]> {
  const configs = (await deps.configs.list(options.team)).filter(
    (config) => config.pipeline === options.pipeline && (options.dataset === undefined || config.dataset === options.dataset),
  );
  const results: DatasetTriggerResult[] = [];
  for (const config of configs) results.push(await triggerDataset(deps, options, config));
  const more = results.filter((result) => result.more);
  if (options.wakeQueueUrl && more.length > 0) {
    await deps.queue.send(
      options.wakeQueueUrl,
      more.map((result) => {
        const wake: StageBWakeMessage = { team: result.team, dataset: result.dataset, staged: 0, source: 'stage-b-trigger' };
        return { body: JSON.stringify(wake) };
      }),
    );
    for (const result of more) {
      deps.logger.info('More staged objects wait than one run receives: woke stage B again', {
        team: result.team,
        dataset: result.dataset,
      });
    }
  }
  return results;
}

async function triggerDataset(
  deps: TriggerDeps,
  options: TriggerStageBOptions,
  config: DatasetParameter,
): Promise<DatasetTriggerResult> {
  const { team, dataset } = config;
  const max = Math.min(config.maxItemsProcess * (options.maxBatchesPerDataset ?? 10), 10_000);
  const messages = await deps.queue.receive(config.stageBQueueUrl, {
    max,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? STAGE_B_RECEIVE_VISIBILITY_SECONDS,
  });
  const { items, invalid } = groupStagedItems(messages, config);
  if (invalid.length > 0) {
    await deps.queue.send(
      config.stageBDeadLetterQueueUrl,
      invalid.map(({ message }) => ({
        body: message.body,
        groupId: datasetKeyOf(team, dataset),
        deduplicationId: deduplicationIdOf('invalid', message.id),
      })),
    );
    await deps.queue.delete(
      config.stageBQueueUrl,
      invalid.map(({ message }) => message.receiptHandle),
    );
    for (const { reason } of invalid) deps.logger.error('Moved an invalid stage B message to the DLQ', { team, dataset, reason });
  }
  // Objects an earlier trigger already handed to a batch go back to that batch, never into a new one.
  const claims = items.length === 0 ? new Map<string, string>() : await deps.metadata.stagedClaims(items.map((i) => i.id));
  const claimed = new Map<string, StagedItem[]>();
  for (const item of items) {
    const batchId = claims.get(item.id);
    if (batchId !== undefined) claimed.set(batchId, [...(claimed.get(batchId) ?? []), item]);
  }
  const free = items.filter((item) => !claims.has(item.id));
  const executions: Array<DatasetTriggerResult['executions'][number]> = [];
  const failed: Array<{ executionId: string; error: string }> = [];
  /** Runs one batch's hand-over, then deletes its messages; on failure, makes them visible again. */
  const handOver = async (executionId: string, receipts: () => readonly string[], work: () => Promise<void>) => {
    try {
      await work();
      await deps.queue.delete(config.stageBQueueUrl, receipts());
    } catch (error) {
      failed.push({ executionId, error: (error as Error).message });
      deps.logger.error('Stage B batch could not start; its messages will be retried', {
        team,
        dataset,
        executionId,
        error: (error as Error).message,
      });
      await deps.queue.release(config.stageBQueueUrl, receipts()).catch(() => undefined);
    }
  };
  const joined = new Set<string>();
  for (const [executionId, held] of claimed) {
    let members = held;
    await handOver(
      executionId,
      () => receiptsOf(members),
      async () => {
        const { result, uris } = await resumeBatch(deps, options, config, executionId, held);
        // Unclaimed objects of the batch's manifest (claims that stopped half-way) belong to it too.
        const rest = free.filter((item) => uris.has(item.id) && !joined.has(item.id));
        for (const item of rest) joined.add(item.id);
        members = [...held, ...rest];
        executions.push({ ...result, resumed: true });
      },
    );
  }
  const plan = sliceBatches(
    free.filter((item) => !joined.has(item.id)),
    { minItems: options.now ? 1 : config.minItemsProcess, maxItems: config.maxItemsProcess },
  );
  if (plan.held.length > 0) await requeueHeld(deps, config, plan.held);
  for (const batch of plan.batches) {
    const uris = batch.objects.map((o) => `s3://${o.bucket}/${o.key}`);
    const executionId = batchIdOf(team, dataset, uris, batch.sources);
    await handOver(
      executionId,
      () => batch.receiptHandles,
      async () => {
        const attempt = await nextAttempt(deps, executionId);
        if (attempt === undefined) {
          executions.push({ executionId, name: executionId, started: false, keys: uris.length });
          return;
        }
        // The manifest first: a claim always has a manifest to resume from.
        const manifest = await writeManifest(deps, options, config, executionId, uris);
        const holders = await deps.metadata.claimStaged(uris, executionId);
        const taken = uris.filter((uri) => holders.get(uri) !== undefined && holders.get(uri) !== executionId);
        if (taken.length > 0) {
          // Another trigger claimed some of these objects in between: give ours back and plan again next time.
          await deps.metadata.releaseStaged(uris, executionId);
          throw new Error(
            `${taken.length} of the batch's objects were claimed by another batch (${holders.get(taken[0] as string)})`,
          );
        }
        const name = workflowNameOf(executionId, attempt);
        const { started } = await deps.workflow.start(
          options.stateMachineArn,
          name,
          stageBInput(config, executionId, manifest, uris),
        );
        executions.push({ executionId, name, started, keys: uris.length });
        deps.logger.info('Stage B batch handed over', { team, dataset, executionId, keys: uris.length });
      },
    );
  }
  return { team, dataset, executions, held: plan.held.length, invalid: invalid.length, failed, more: messages.length >= max };
}

/**
 * Puts messages held for a later run back on the queue as new messages, then deletes the received ones. Making
 * them visible again instead would count each wait as a receive, and the queue's redrive policy would move a
 * staged object that waits for `minItemsProcess` to the dead-letter queue after a few trigger runs. A stop
 * between the two steps leaves a message twice, which {@link groupStagedItems} folds into one item.
 */
async function requeueHeld(deps: TriggerDeps, config: DatasetParameter, held: readonly ReceivedMessage[]): Promise<void> {
  await deps.queue.send(
    config.stageBQueueUrl,
    held.map((message) => ({
      body: message.body,
      groupId: message.groupId ?? datasetKeyOf(config.team, config.dataset),
      deduplicationId: deduplicationIdOf('held', message.id),
    })),
  );
  await deps.queue.delete(
    config.stageBQueueUrl,
    held.map((message) => message.receiptHandle),
  );
}

/**
 * Finishes handing over a batch that an earlier trigger claimed objects for: reads its manifest back, claims the
 * rest of its objects and starts it under its name unless it already started. Returns what it did and the objects
 * of its manifest. Throws when the batch has no manifest and never started, after giving its objects back, to be
 * planned anew.
 */
async function resumeBatch(
  deps: TriggerDeps,
  options: TriggerStageBOptions,
  config: DatasetParameter,
  executionId: string,
  held: readonly StagedItem[],
): Promise<{ result: DatasetTriggerResult['executions'][number]; uris: ReadonlySet<string> }> {
  const { team, dataset } = config;
  const manifestKey = manifestKeyOf(team, dataset, executionId);
  const uris = await readManifest(deps, options.artifactsBucket, manifestKey);
  const attempt = await nextAttempt(deps, executionId);
  if (attempt === undefined) {
    deps.logger.info('Deleted stage B messages of a batch that already ran', {
      team,
      dataset,
      executionId,
      messages: held.length,
    });
    return {
      result: { executionId, name: executionId, started: false, keys: uris?.length ?? held.length },
      uris: new Set(uris ?? []),
    };
  }
  if (!uris) {
    await deps.metadata.releaseStaged(
      held.map((item) => item.id),
      executionId,
    );
    throw new Error(`batch ${executionId} holds these objects but has no manifest; they are given back and planned again`);
  }
  await deps.metadata.claimStaged(uris, executionId);
  const name = workflowNameOf(executionId, attempt);
  const manifest = `s3://${options.artifactsBucket}/${manifestKey}`;
  const { started } = await deps.workflow.start(options.stateMachineArn, name, stageBInput(config, executionId, manifest, uris));
  deps.logger.warn('Resumed a stage B batch an earlier trigger did not finish handing over', {
    team,
    dataset,
    executionId,
    started,
    keys: uris.length,
  });
  return { result: { executionId, name, started, keys: uris.length }, uris: new Set(uris) };
}

async function writeManifest(
  deps: TriggerDeps,
  options: TriggerStageBOptions,
  config: DatasetParameter,
  executionId: string,
  uris: readonly string[],
): Promise<string> {
  const manifestKey = manifestKeyOf(config.team, config.dataset, executionId);
  await deps.store.put(options.artifactsBucket, manifestKey, `${JSON.stringify(uris, null, 1)}\n`, {
    contentType: 'application/json',
  });
  return `s3://${options.artifactsBucket}/${manifestKey}`;
}

/** Reads a batch manifest back; undefined when it does not exist. */
async function readManifest(deps: TriggerDeps, bucket: string, key: string): Promise<string[] | undefined> {
  const text = await readTextIfExists(deps.store, bucket, key);
  if (text === undefined) return undefined;
  const uris = JSON.parse(text) as unknown;
  if (!Array.isArray(uris) || !uris.every((uri) => typeof uri === 'string')) {
    throw new Error(`Manifest s3://${bucket}/${key} is not a JSON list of s3:// URIs.`);
  }
  return uris;
}

/** The state machine input of a batch: the same for a first start and a resumed one, as Step Functions requires. */
function stageBInput(
  config: DatasetParameter,
  executionId: string,
  manifest: string,
  uris: readonly string[],
): StageBExecutionInput {
  return {
    stage: 'b',
    executionId,
    team: config.team,
    dataset: config.dataset,
    pipeline: config.pipeline,
    glueJob: config.glueJob,
    glueDatabase: config.glueDatabase,
    manifest,
    keys: uris.map((uri) => parseS3Uri(uri).key),
  };
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
  const done = await deps.metadata.transition(execution.executionId, 'SUCCEEDED', {
    at: deps.clock().toISOString(),
    note: typeof jobRunId === 'string' ? `post-update (job run ${jobRunId})` : 'post-update',
    outputs,
  });
  await recordRun(deps, execution, done);
  deps.logger.info('Stage B execution succeeded', { executionId: done.id, tables: outputs.map((o) => o.table) });
  return done;
}

/** Reads an object as UTF-8 text, or returns undefined when it does not exist (one GET, no HEAD first). */
async function readTextIfExists(store: ObjectStore, bucket: string, key: string): Promise<string | undefined> {
  let body: AsyncIterable<Uint8Array>;
  try {
    body = await store.get(bucket, key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
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
  // The keys are on the DLQ: give the objects back, so a redrive plans them into a new batch.
  await deps.metadata.releaseStaged(
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
