/**
 * The stage B trigger: receives each dataset's staged keys, plans batches and hands each one over to the stage B
 * workflow, resuming the batches an earlier run did not finish handing over.
 */
import {
  type DatasetParameter,
  STAGE_B_RECEIVE_VISIBILITY_SECONDS,
  type StageBExecutionInput,
  stageBWakeBody,
} from '../contract.js';
import type { PipelineDeps } from './deps.js';
import { batchIdOf, deduplicationIdOf, manifestKeyOf, parseS3Uri, workflowNameOf } from './ids.js';
import { datasetGroupOf } from './model.js';
import type { ReceivedMessage } from './ports.js';
import { nextAttempt } from './stage-a.js';
import {
  type BatchPlan,
  groupStagedItems,
  type PlannedBatch,
  receiptsOf,
  type StagedItem,
  sliceBatches,
} from './stage-b-batching.js';
import { readManifest, writeManifest } from './stage-b-files.js';

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

/** One batch a trigger handed over. */
type TriggeredExecution = DatasetTriggerResult['executions'][number];

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
  for (const config of configs) results.push(await new DatasetTrigger(deps, options, config).run());
  const more = results.filter((result) => result.more);
  if (options.wakeQueueUrl && more.length > 0) await wakeAgain(deps, options.wakeQueueUrl, more);
  return results;
}

/** Wakes the trigger again for the datasets that had more staged messages than one run receives. */
async function wakeAgain(deps: TriggerDeps, wakeQueueUrl: string, more: readonly DatasetTriggerResult[]): Promise<void> {
  await deps.queue.send(
    wakeQueueUrl,
    more.map((result) => ({ body: stageBWakeBody(result, 0, 'stage-b-trigger') })),
  );
  for (const result of more) {
    deps.logger.info('More staged objects wait than one run receives: woke stage B again', {
      team: result.team,
      dataset: result.dataset,
    });
  }
}

/**
 * One dataset's part of a trigger run: receives its staged messages, moves the invalid ones to the dead-letter
 * queue, resumes the batches that already claimed objects, then plans and starts new batches from the rest.
 */
class DatasetTrigger {
  private readonly executions: TriggeredExecution[] = [];
  private readonly failed: Array<{ executionId: string; error: string }> = [];
  /** Unclaimed objects that a resumed batch's manifest names: they join that batch. */
  private readonly joined = new Set<string>();

  constructor(
    private readonly deps: TriggerDeps,
    private readonly options: TriggerStageBOptions,
    private readonly config: DatasetParameter,
  ) {}

  async run(): Promise<DatasetTriggerResult> {
    const { team, dataset } = this.config;
    const max = Math.min(this.config.maxItemsProcess * (this.options.maxBatchesPerDataset ?? 10), 10_000);
    const messages = await this.deps.queue.receive(this.config.stageBQueueUrl, {
      max,
      visibilityTimeoutSeconds: this.options.visibilityTimeoutSeconds ?? STAGE_B_RECEIVE_VISIBILITY_SECONDS,
    });
    const { items, invalid } = groupStagedItems(messages, this.config);
    if (invalid.length > 0) await this.deadLetter(invalid);
    const { claimed, free } = await this.splitByClaim(items);
    for (const [executionId, held] of claimed) await this.resume(executionId, held, free);
    const plan = sliceBatches(
      free.filter((item) => !this.joined.has(item.id)),
      { minItems: this.options.now ? 1 : this.config.minItemsProcess, maxItems: this.config.maxItemsProcess },
    );
    if (plan.held.length > 0) await requeueHeld(this.deps, this.config, plan.held);
    for (const batch of plan.batches) await this.start(batch);
    const { executions, failed } = this;
    return { team, dataset, executions, held: plan.held.length, invalid: invalid.length, failed, more: messages.length >= max };
  }

  /** Moves messages that are not stage B messages of this dataset to its dead-letter queue. */
  private async deadLetter(invalid: BatchPlan['invalid']): Promise<void> {
    const { team, dataset } = this.config;
    await this.deps.queue.send(
      this.config.stageBDeadLetterQueueUrl,
      invalid.map(({ message }) => ({
        body: message.body,
        groupId: datasetGroupOf(team, dataset),
        deduplicationId: deduplicationIdOf('invalid', message.id),
      })),
    );
    await this.deps.queue.delete(
      this.config.stageBQueueUrl,
      invalid.map(({ message }) => message.receiptHandle),
    );
    for (const { reason } of invalid)
      this.deps.logger.error('Moved an invalid stage B message to the DLQ', { team, dataset, reason });
  }

  /** Objects an earlier trigger already handed to a batch go back to that batch, never into a new one. */
  private async splitByClaim(items: readonly StagedItem[]): Promise<{ claimed: Map<string, StagedItem[]>; free: StagedItem[] }> {
    const claims =
      items.length === 0
        ? new Map<string, string>()
        : await this.deps.metadata.stagedClaims(
            this.config.team,
            items.map((i) => i.id),
          );
    const claimed = new Map<string, StagedItem[]>();
    for (const item of items) {
      const batchId = claims.get(item.id);
      if (batchId !== undefined) claimed.set(batchId, [...(claimed.get(batchId) ?? []), item]);
    }
    return { claimed, free: items.filter((item) => !claims.has(item.id)) };
  }

  /** Resumes a batch that claimed `held`; the free objects its manifest names join it. */
  private async resume(executionId: string, held: readonly StagedItem[], free: readonly StagedItem[]): Promise<void> {
    let members = held;
    await this.handOver(
      executionId,
      () => receiptsOf(members),
      async () => {
        const { result, uris } = await resumeBatch(this.deps, this.options, this.config, executionId, held);
        // Unclaimed objects of the batch's manifest (claims that stopped half-way) belong to it too.
        const rest = free.filter((item) => uris.has(item.id) && !this.joined.has(item.id));
        for (const item of rest) this.joined.add(item.id);
        members = [...held, ...rest];
        this.executions.push({ ...result, resumed: true });
      },
    );
  }

  /** Starts a new batch, unless it already ran. */
  private async start(batch: PlannedBatch): Promise<void> {
    const uris = batch.objects.map((o) => `s3://${o.bucket}/${o.key}`);
    const executionId = batchIdOf(this.config.team, this.config.dataset, uris, batch.sources);
    await this.handOver(
      executionId,
      () => batch.receiptHandles,
      async () => {
        const attempt = await nextAttempt(this.deps, this.config.team, executionId);
        if (attempt === undefined) {
          this.executions.push({ executionId, name: executionId, started: false, keys: uris.length });
          return;
        }
        await this.claimAndStart(executionId, uris, attempt);
      },
    );
  }

  /** Writes the batch's manifest, claims its objects and starts its workflow. */
  private async claimAndStart(executionId: string, uris: readonly string[], attempt: number): Promise<void> {
    const { deps, options, config } = this;
    // The manifest first: a claim always has a manifest to resume from.
    const manifest = await writeManifest(deps.store, options.artifactsBucket, config, executionId, uris);
    const holders = await deps.metadata.claimStaged(config.team, uris, executionId);
    const taken = uris.filter((uri) => holders.get(uri) !== undefined && holders.get(uri) !== executionId);
    if (taken.length > 0) {
      // Another trigger claimed some of these objects in between: give ours back and plan again next time.
      await deps.metadata.releaseStaged(config.team, uris, executionId);
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
    this.executions.push({ executionId, name, started, keys: uris.length });
    deps.logger.info('Stage B batch handed over', { team: config.team, dataset: config.dataset, executionId, keys: uris.length });
  }

  /** Runs one batch's hand-over, then deletes its messages; on failure, makes them visible again. */
  private async handOver(executionId: string, receipts: () => readonly string[], work: () => Promise<void>): Promise<void> {
    const { deps, config } = this;
    try {
      await work();
      await deps.queue.delete(config.stageBQueueUrl, receipts());
    } catch (error) {
      this.failed.push({ executionId, error: (error as Error).message });
      deps.logger.error('Stage B batch could not start; its messages will be retried', {
        team: config.team,
        dataset: config.dataset,
        executionId,
        error: (error as Error).message,
      });
      await deps.queue.release(config.stageBQueueUrl, receipts()).catch(() => undefined);
    }
  }
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
      groupId: message.groupId ?? datasetGroupOf(config.team, config.dataset),
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
): Promise<{ result: TriggeredExecution; uris: ReadonlySet<string> }> {
  const { team, dataset } = config;
  const manifestKey = manifestKeyOf(team, dataset, executionId);
  const uris = await readManifest(deps.store, options.artifactsBucket, manifestKey);
  const attempt = await nextAttempt(deps, team, executionId);
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
      team,
      held.map((item) => item.id),
      executionId,
    );
    throw new Error(`batch ${executionId} holds these objects but has no manifest; they are given back and planned again`);
  }
  await deps.metadata.claimStaged(team, uris, executionId);
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
