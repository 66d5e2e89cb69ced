/**
 * In-memory implementations of the pipeline ports: for unit tests, and for the parts of `sdlf run --local` that
 * need no persistence (queues, workflow starts). They follow the same rules as the AWS adapters: conditional
 * execution writes, FIFO deduplication, all-or-nothing object writes.
 */
import { createHash } from 'node:crypto';
import type { DatasetParameter } from '../contract.js';
import {
  claimStagedItem,
  executionKeyOf,
  heldBatches,
  objectKeyOf,
  pipelineItemOf,
  releasedStagedItem,
  stagedKeyOwner,
  startedExecution,
  transitionedExecution,
  withLastRun,
} from '../core/metadata-items.js';
import {
  type DatasetItem,
  datasetKeyOf,
  type ExecutionItem,
  type ExecutionStatus,
  type NewExecution,
  type ObjectMetadataItem,
  type PipelineItem,
  type PipelineRun,
  type TransitionDetails,
} from '../core/model.js';
import {
  type DatasetConfigSource,
  type GetObjectOptions,
  type ListExecutionsOptions,
  type MetadataStore,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type OutgoingMessage,
  type QueuePort,
  type ReceivedMessage,
  type ReceiveOptions,
  type StagedObjectItem,
  type StartExecutionResult,
  type StartWorkflowResult,
  type WorkflowPort,
} from '../core/ports.js';

/** Reads a body of any {@link ObjectBody} form into bytes. */
export async function bodyBytes(body: ObjectBody): Promise<Uint8Array> {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/**
 * An {@link ObjectStore} in a map; a put becomes visible only when its body was read completely. Buckets named
 * in `versionedBuckets` keep every version, as a versioned S3 bucket does: each put gets a `versionId` and a get
 * may read any version. Other buckets keep the latest bytes only and read them whatever version is asked for.
 */
export class MemoryObjectStore implements ObjectStore {
  /** Objects by `bucket/key`. */
  readonly objects = new Map<string, { bytes: Uint8Array; info: ObjectInfo }>();
  /** Every version of the objects of versioned buckets, by `bucket/key/versionId`. */
  private readonly versions = new Map<string, Uint8Array>();
  private versionCounter = 0;

  constructor(private readonly versionedBuckets: readonly string[] = []) {}

  async get(bucket: string, key: string, options: GetObjectOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) throw new ObjectNotFoundError(bucket, key);
    const versioned = options.versionId && this.versionedBuckets.includes(bucket);
    const bytes = versioned ? this.versions.get(`${bucket}/${key}/${options.versionId}`) : object.bytes;
    if (!bytes) throw new ObjectNotFoundError(bucket, key, options.versionId);
    return (async function* () {
      for (let at = 0; at < bytes.length; at += 65_536) yield bytes.subarray(at, at + 65_536);
    })();
  }

  async put(bucket: string, key: string, body: ObjectBody): Promise<ObjectInfo> {
    const bytes = await bodyBytes(body);
    const versionId = this.versionedBuckets.includes(bucket) ? `v${++this.versionCounter}` : undefined;
    const info: ObjectInfo = {
      bucket,
      key,
      size: bytes.length,
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      ...(versionId ? { versionId } : {}),
      lastModified: new Date().toISOString(),
    };
    this.objects.set(`${bucket}/${key}`, { bytes, info });
    if (versionId) this.versions.set(`${bucket}/${key}/${versionId}`, bytes);
    return info;
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()].filter((id) => id.startsWith(`${bucket}/${prefix}`)).sort();
    for (const id of keys) {
      const object = this.objects.get(id);
      if (object) yield object.info;
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    return this.objects.get(`${bucket}/${key}`)?.info;
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.objects.delete(`${bucket}/${key}`);
  }

  /** Reads an object as text (a test convenience). */
  text(bucket: string, key: string): string | undefined {
    const object = this.objects.get(`${bucket}/${key}`);
    return object ? Buffer.from(object.bytes).toString('utf8') : undefined;
  }
}

/**
 * A {@link MetadataStore} in maps, keyed as the DynamoDB tables are (`{team}/…`, see `metadataKeyOf`); the items are
 * held as the store hands them out (`id` without the team).
 */
export class MemoryMetadataStore implements MetadataStore {
  /** By `objectKeyOf(team, id)`. */
  readonly objects = new Map<string, ObjectMetadataItem>();
  /** By `datasetKeyOf(team, dataset)`. */
  readonly datasets = new Map<string, DatasetItem>();
  /** By `pipelineKeyOf(team, pipeline, stage)`. */
  readonly pipelines = new Map<string, PipelineItem>();
  /** By `executionKeyOf(team, id)`. */
  readonly executions = new Map<string, ExecutionItem>();

  async putObject(team: string, item: ObjectMetadataItem): Promise<void> {
    this.objects.set(objectKeyOf(team, item.id), item);
  }

  async putStagedObject(item: StagedObjectItem): Promise<string | undefined> {
    const key = objectKeyOf(item.team, item.id);
    const owner = stagedKeyOwner(this.objects.get(key), item);
    if (owner === undefined) this.objects.set(key, item);
    return owner;
  }

  async getDataset(team: string, dataset: string): Promise<DatasetItem | undefined> {
    return this.datasets.get(datasetKeyOf(team, dataset));
  }

  async putDataset(item: DatasetItem): Promise<void> {
    this.datasets.set(item.name, item);
  }

  async startExecution(execution: NewExecution, at: string): Promise<StartExecutionResult> {
    const key = executionKeyOf(execution.team, execution.id);
    const start = startedExecution(this.executions.get(key), execution, at);
    if (!start.existed) this.executions.set(key, start.execution);
    return start;
  }

  async transition(
    team: string,
    executionId: string,
    status: ExecutionStatus,
    details: TransitionDetails,
  ): Promise<ExecutionItem> {
    const key = executionKeyOf(team, executionId);
    const change = transitionedExecution(executionId, this.executions.get(key), status, details);
    if (change.changed) this.executions.set(key, change.execution);
    return change.execution;
  }

  async getExecution(team: string, executionId: string): Promise<ExecutionItem | undefined> {
    return this.executions.get(executionKeyOf(team, executionId));
  }

  async listExecutions(options: ListExecutionsOptions): Promise<ExecutionItem[]> {
    return [...this.executions.values()]
      .filter(
        (e) =>
          (options.team === undefined || e.team === options.team) &&
          (options.dataset === undefined || e.dataset === options.dataset),
      )
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .slice(0, options.limit);
  }

  async claimStaged(team: string, objectIds: readonly string[], batchId: string): Promise<Map<string, string | undefined>> {
    return new Map(
      objectIds.map((id) => {
        const key = objectKeyOf(team, id);
        const { holder, claimed } = claimStagedItem(this.objects.get(key), batchId);
        if (claimed) this.objects.set(key, claimed);
        return [id, holder];
      }),
    );
  }

  async stagedClaims(team: string, objectIds: readonly string[]): Promise<Map<string, string>> {
    return heldBatches(objectIds, (id) => this.objects.get(objectKeyOf(team, id)));
  }

  async releaseStaged(team: string, objectIds: readonly string[], batchId: string): Promise<void> {
    for (const id of objectIds) {
      const key = objectKeyOf(team, id);
      const released = releasedStagedItem(this.objects.get(key), batchId);
      if (released) this.objects.set(key, released);
    }
  }

  async recordPipelineRun(run: PipelineRun): Promise<void> {
    const item = pipelineItemOf(run);
    this.pipelines.set(item.name, item);
    const datasetName = datasetKeyOf(run.team, run.execution.dataset);
    const dataset = this.datasets.get(datasetName);
    if (dataset) this.datasets.set(datasetName, withLastRun(dataset, run));
  }
}

interface QueuedMessage {
  readonly id: string;
  readonly body: string;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  receiveCount: number;
  receiptHandle?: string;
  /** Epoch ms until which the message is hidden. */
  hiddenUntil: number;
}

/** An SQS redrive policy: where a message goes once it was received `maxReceiveCount` times. */
export interface MemoryRedrivePolicy {
  readonly deadLetterQueueUrl: string;
  readonly maxReceiveCount: number;
}

/**
 * Queues in memory, by URL: deduplication ids (of FIFO messages) are remembered for 5 minutes, as SQS does; a received
 * message is hidden until deleted, released or its visibility timeout passes; a queue with a redrive policy
 * moves a message that was received `maxReceiveCount` times to its dead-letter queue instead of delivering it
 * again, as SQS does.
 */
export class MemoryQueue implements QueuePort {
  readonly queues = new Map<string, QueuedMessage[]>();
  private readonly seen = new Map<string, number>();
  private counter = 0;

  /**
   * @param now the clock of visibility timeouts and deduplication
   * @param redrive the redrive policy of a queue, by URL; undefined for none
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly redrive: (queueUrl: string) => MemoryRedrivePolicy | undefined = () => undefined,
  ) {}

  async send(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const queue = this.queues.get(queueUrl) ?? [];
    this.queues.set(queueUrl, queue);
    for (const message of messages) {
      if (message.deduplicationId !== undefined) {
        const dedupKey = `${queueUrl}\u0000${message.deduplicationId}`;
        const sentAt = this.seen.get(dedupKey);
        if (sentAt !== undefined && this.now() - sentAt < 300_000) continue;
        this.seen.set(dedupKey, this.now());
      }
      this.counter++;
      queue.push({ id: `m-${this.counter}`, ...message, receiveCount: 0, hiddenUntil: 0 });
    }
  }

  async receive(queueUrl: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    const policy = this.redrive(queueUrl);
    for (const message of [...(this.queues.get(queueUrl) ?? [])]) {
      if (out.length >= options.max) break;
      if (message.hiddenUntil > this.now()) continue;
      if (policy && message.receiveCount >= policy.maxReceiveCount) {
        this.moveToDeadLetterQueue(queueUrl, message, policy.deadLetterQueueUrl);
        continue;
      }
      this.counter++;
      message.receiveCount++;
      message.receiptHandle = `r-${this.counter}`;
      message.hiddenUntil = this.now() + (options.visibilityTimeoutSeconds ?? 30) * 1000;
      out.push({
        id: message.id,
        body: message.body,
        receiptHandle: message.receiptHandle,
        groupId: message.groupId,
        receiveCount: message.receiveCount,
      });
    }
    return out;
  }

  async delete(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    const handles = new Set(receiptHandles);
    const queue = this.queues.get(queueUrl) ?? [];
    this.queues.set(
      queueUrl,
      queue.filter((m) => !(m.receiptHandle && handles.has(m.receiptHandle))),
    );
  }

  async release(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    const handles = new Set(receiptHandles);
    for (const message of this.queues.get(queueUrl) ?? []) {
      if (message.receiptHandle && handles.has(message.receiptHandle)) message.hiddenUntil = 0;
    }
  }

  private moveToDeadLetterQueue(queueUrl: string, message: QueuedMessage, deadLetterQueueUrl: string): void {
    this.queues.set(
      queueUrl,
      (this.queues.get(queueUrl) ?? []).filter((m) => m !== message),
    );
    const { receiptHandle: _handle, ...rest } = message;
    this.queues.set(deadLetterQueueUrl, [
      ...(this.queues.get(deadLetterQueueUrl) ?? []),
      { ...rest, receiveCount: 0, hiddenUntil: 0 },
    ]);
  }

  /** Bodies of the messages in a queue, visible or not (a test convenience). */
  bodies(queueUrl: string): string[] {
    return (this.queues.get(queueUrl) ?? []).map((m) => m.body);
  }
}

/** A {@link WorkflowPort} that records starts; names are unique per state machine, as in Step Functions. */
export class MemoryWorkflow implements WorkflowPort {
  readonly runs: Array<{ stateMachine: string; name: string; input: unknown }> = [];

  constructor(private readonly onStart?: (run: { stateMachine: string; name: string; input: unknown }) => Promise<void>) {}

  async start(stateMachine: string, name: string, input: unknown): Promise<StartWorkflowResult> {
    const runId = `${stateMachine}:${name}`;
    if (this.runs.some((run) => run.stateMachine === stateMachine && run.name === name)) return { runId, started: false };
    const run = { stateMachine, name, input };
    this.runs.push(run);
    await this.onStart?.(run);
    return { runId, started: true };
  }
}

/** A {@link DatasetConfigSource} over a fixed list of configurations. */
export class StaticDatasetConfigs implements DatasetConfigSource {
  constructor(readonly configs: readonly DatasetParameter[]) {}

  async get(team: string, dataset: string): Promise<DatasetParameter | undefined> {
    return this.configs.find((c) => c.team === team && c.dataset === dataset);
  }

  async list(team: string): Promise<DatasetParameter[]> {
    return this.configs.filter((c) => c.team === team);
  }
}
