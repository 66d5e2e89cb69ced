/**
 * Stage A (light transform): start one execution per raw object, run the dataset's transform on it, stage its
 * records as JSON Lines, and hand the staged keys to stage B.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  type LightTransformInput,
  type LightTransformOutput,
  type StageAExecutionInput,
  type StageAMessage,
  type StageBMessage,
  stageBWakeBody,
} from '../contract.js';
import type { LightTransform, RawInput } from '../transform/types.js';
import {
  MalformedInputError,
  optionalString,
  type PipelineDeps,
  parseObject,
  requireString,
  UnknownDatasetError,
} from './deps.js';
import { canRestart, failureOf } from './executions.js';
import { deduplicationIdOf, stagedKeyOf, workflowNameOf } from './ids.js';
import { datasetGroupOf, type ExecutionItem, type ExecutionOutput, objectUri } from './model.js';
import type { ObjectInfo, ObjectStore } from './ports.js';
import { recordRun, registerDataset, startExecutionRecord } from './records.js';

const MESSAGE = 'stage A message';

/** Reads a stage A queue message body; throws {@link MalformedInputError} naming the bad field. */
export function parseStageAMessage(body: string): StageAMessage {
  const value = parseObject(body, MESSAGE);
  const size = value.size;
  if (size !== undefined && typeof size !== 'number') {
    throw new MalformedInputError(MESSAGE, `"size" must be a number, got ${JSON.stringify(size)}`);
  }
  const etag = optionalString(value, 'etag', MESSAGE);
  const versionId = optionalString(value, 'versionId', MESSAGE);
  return {
    bucket: requireString(value, 'bucket', MESSAGE),
    key: requireString(value, 'key', MESSAGE),
    team: requireString(value, 'team', MESSAGE),
    dataset: requireString(value, 'dataset', MESSAGE),
    pipeline: requireString(value, 'pipeline', MESSAGE),
    objectId: requireString(value, 'objectId', MESSAGE),
    ...(typeof size === 'number' ? { size } : {}),
    ...(etag === undefined ? {} : { etag }),
    ...(versionId === undefined ? {} : { versionId }),
  };
}

/** Options of {@link startStageA}. */
export interface StartStageAOptions {
  /** The team pipeline's stage A state machine. */
  readonly stateMachineArn: string;
  /**
   * Whether the message may restart an execution that FAILED: true for a message `sdlf redrive` moved back from
   * the dead-letter queue (it carries {@link REDRIVE_ATTRIBUTE}) and for a local run, which the user starts again
   * on purpose. A duplicate or late S3 event must not: the failed message waits in the dead-letter queue, and
   * the redrive would process the object a second time. @default false
   */
  readonly restartFailed?: boolean;
}

/** What {@link startStageA} did with one message. */
export interface StartStageAResult {
  readonly executionId: string;
  /** Name of the workflow run: the execution id, suffixed with the attempt after a redrive. */
  readonly name: string;
  /** False when the run existed already (a redelivered message): nothing new was started. */
  readonly started: boolean;
}

/**
 * Starts the stage A execution of one queue message. The execution id is the object's id, so a redelivered
 * message finds its run already started (`started: false`); a message whose execution FAILED (a redrive) starts
 * the next attempt under a new name. Throws {@link MalformedInputError} for a bad message and
 * {@link UnknownDatasetError} when the dataset was deregistered since routing.
 */
export async function startStageA(
  body: string,
  deps: Pick<PipelineDeps, 'configs' | 'metadata' | 'workflow' | 'logger'>,
  options: StartStageAOptions,
): Promise<StartStageAResult> {
  const message = parseStageAMessage(body);
  const config = await deps.configs.get(message.team, message.dataset);
  if (!config) throw new UnknownDatasetError(message.team, message.dataset);
  const executionId = message.objectId;
  const existing = await deps.metadata.getExecution(message.team, executionId);
  if (existing?.status === 'FAILED' && !options.restartFailed) {
    deps.logger.warn(
      'Stage A execution FAILED earlier; a message that was not redriven does not restart it (its message waits in the dead-letter queue: "sdlf redrive --stage a" runs it again)',
      { executionId, attempt: existing.attempt },
    );
    return { executionId, name: workflowNameOf(executionId, existing.attempt), started: false };
  }
  const attempt = attemptAfter(existing);
  if (attempt === undefined) {
    deps.logger.info('Stage A execution exists already; message was a duplicate', { executionId });
    return { executionId, name: executionId, started: false };
  }
  const input: StageAExecutionInput = {
    ...message,
    versionId: message.versionId ?? '',
    stage: 'a',
    executionId,
    lightTransformFunction: config.lightTransformFunction,
    stageBQueueUrl: config.stageBQueueUrl,
    message: body,
  };
  const name = workflowNameOf(executionId, attempt);
  const { started } = await deps.workflow.start(options.stateMachineArn, name, input);
  deps.logger.info(started ? 'Started stage A execution' : 'Stage A execution was already running', { executionId, name });
  return { executionId, name, started };
}

/**
 * The attempt to start for an execution id: 1 when it is new, the next one when it FAILED, or undefined when it
 * exists in any other status (running or done: a duplicate).
 */
export async function nextAttempt(
  deps: Pick<PipelineDeps, 'metadata'>,
  team: string,
  executionId: string,
): Promise<number | undefined> {
  return attemptAfter(await deps.metadata.getExecution(team, executionId));
}

/** {@link nextAttempt} of an execution item already read (undefined: none exists). */
function attemptAfter(existing: ExecutionItem | undefined): number | undefined {
  if (!existing) return 1;
  return canRestart(existing) ? existing.attempt + 1 : existing.status === 'STARTED' ? existing.attempt : undefined;
}

/** Options of the pre-update steps. */
export interface PreUpdateOptions {
  /** Days an execution history item is kept (its TTL). */
  readonly ttlDays: number;
}

/**
 * Stage A pre-update: records the execution as STARTED (or restarts a FAILED one), registers the dataset's
 * configuration in `Datasets` when it is new or changed, and moves the execution to PROCESSING. A retried step
 * is a no-op. Throws when the execution already SUCCEEDED (a duplicate run must not process the object again).
 */
export async function stageAPreUpdate(
  execution: StageAExecutionInput,
  deps: Pick<PipelineDeps, 'metadata' | 'configs' | 'logger' | 'clock'>,
  options: PreUpdateOptions,
): Promise<ExecutionItem> {
  const item = await startExecutionRecord(
    deps,
    {
      id: execution.executionId,
      stage: 'a',
      team: execution.team,
      dataset: execution.dataset,
      pipeline: execution.pipeline,
      source: objectUri(execution.bucket, execution.key),
    },
    options.ttlDays,
  );
  await registerDataset(deps, execution.team, execution.dataset);
  const processing = await deps.metadata.transition(item.team, item.id, 'PROCESSING', {
    at: deps.clock().toISOString(),
    note: 'pre-update',
  });
  deps.logger.info('Stage A execution started', { executionId: item.id, attempt: processing.attempt });
  return processing;
}

/** Options of {@link processObject}. */
export interface ProcessObjectOptions {
  /** Bucket the staged objects go to. */
  readonly stageBucket: string;
  /** Environment id given to the transform (`dev`, or `local`). */
  readonly env: string;
  /** Size of the raw object, when known. */
  readonly size?: number;
}

const TABLE_NAME = /^[a-z0-9_]+$/;
/** Bytes of JSON Lines collected (encoded) before a write to the staged object's stream. */
const WRITE_CHUNK = 256 * 1024;

/**
 * Stage A process: runs a light transform on one raw object and streams each table's records as JSON Lines to
 * `{team}/{dataset}/{table}/{source key}-{hash}.jsonl` in the stage bucket (see `stagedKeyOf`), in flat memory. A
 * transform that throws, yields a bad table name or a record that cannot be serialised fails this object only:
 * every staged object it had started is aborted, and every one it had finished (a multi-table transform that
 * fails while finishing a later table) is deleted, so a FAILED execution leaves nothing staged.
 */
export async function processObject(
  input: LightTransformInput & { readonly size?: number },
  transform: LightTransform,
  deps: Pick<PipelineDeps, 'store' | 'logger'>,
  options: ProcessObjectOptions,
): Promise<LightTransformOutput> {
  let opened = false;
  // An unversioned object's execution carries an empty version id.
  const versionId = input.versionId || undefined;
  const raw: RawInput = {
    bucket: input.bucket,
    key: input.key,
    ...((options.size ?? input.size) === undefined ? {} : { size: options.size ?? input.size }),
    body: () => {
      if (opened) throw new Error(`The body of ${input.key} was already opened; a light transform may read it once.`);
      opened = true;
      return lazyBody(deps.store, input.bucket, input.key, versionId);
    },
  };
  const context = { team: input.team, dataset: input.dataset, env: options.env, executionId: input.executionId };
  const writers = new Map<string, TableWriter>();
  const iterator = transform(raw, context)[Symbol.asyncIterator]();
  let produced = 0;
  try {
    while (true) {
      let step: IteratorResult<unknown>;
      try {
        step = await iterator.next();
      } catch (error) {
        throw transformFailure(error, input, produced);
      }
      if (step.done) break;
      const output = step.value as { table?: unknown; record?: unknown } | undefined;
      const table = output?.table;
      if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
        throw transformFailure(
          new Error(`The light transform yielded the table name ${JSON.stringify(table)}: use lowercase letters, digits and _.`),
          input,
          produced,
        );
      }
      if (typeof output?.record !== 'object' || output.record === null || Array.isArray(output.record)) {
        throw transformFailure(
          new Error(`The light transform yielded a record for "${table}" that is not an object.`),
          input,
          produced,
        );
      }
      let writer = writers.get(table);
      if (!writer) {
        writer = new TableWriter(
          deps.store,
          options.stageBucket,
          stagedKeyOf(input.team, input.dataset, table, input.key, versionId),
        );
        writers.set(table, writer);
      }
      // Awaits only when the write buffer is flushed: a promise per record would dominate the run time.
      const flushed = writer.write(`${JSON.stringify(output.record)}\n`);
      produced++;
      if (flushed) await flushed;
    }
    const outputs = [];
    for (const [table, writer] of [...writers].sort(([a], [b]) => a.localeCompare(b))) {
      await writer.end();
      outputs.push({ bucket: options.stageBucket, key: writer.key, table, records: writer.records });
      deps.logger.info('Staged a table', { table, key: writer.key, records: writer.records });
    }
    return { outputs };
  } catch (error) {
    // Lets the transform run its finally blocks (close files, release clients); a throwing one changes nothing.
    await Promise.resolve(iterator.return?.()).catch(() => undefined);
    await Promise.all(
      [...writers.values()].map((writer) =>
        writer.ended ? deps.store.delete(options.stageBucket, writer.key) : writer.abort(error),
      ),
    );
    throw error;
  }
}

/** Where a stack frame points into the project's `transforms/` folder (its source-mapped path, line, column). */
const TRANSFORM_FRAME = /(?:^|[\\/(]|file:\/\/)(transforms[\\/][^\s():]+?\.[cm]?[jt]sx?):(\d+):(\d+)/;

/**
 * The project-relative `file:line:column` of the first frame of `error`'s stack in the project's `transforms/`
 * folder (below `node_modules`, frames of dependencies and of sdlf itself are skipped). It names the transform's
 * own line when the bundle carries source maps and they are enabled, as they are locally and on Lambda.
 */
export function transformLocationOf(error: unknown): string | undefined {
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : '';
  for (const line of stack.split('\n').slice(1)) {
    if (!/^\s*at /.test(line) || /node_modules[\\/]/.test(line)) continue;
    const match = TRANSFORM_FRAME.exec(line);
    if (match) return `${match[1]?.replaceAll('\\', '/')}:${match[2]}:${match[3]}`;
  }
  return undefined;
}

/**
 * An error of (or about) the light transform, retold with where it happened: the transform's own line, the raw
 * object and the record it was producing. Keeps the error's name (the recorded error type), its stack frames
 * and, as `cause`, the error itself.
 */
export function transformFailure(error: unknown, input: { bucket: string; key: string }, produced: number): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const where = transformLocationOf(original);
  const detail = [
    ...(where ? [`in the light transform at ${where}`] : []),
    `on ${objectUri(input.bucket, input.key)}`,
    `after ${produced.toLocaleString('en-US')} record${produced === 1 ? '' : 's'}, producing record ${(produced + 1).toLocaleString('en-US')}`,
  ];
  const wrapped = new Error(`${original.message} (${detail.join(', ')})`, { cause: original });
  wrapped.name = original.name;
  const code = (original as { code?: unknown }).code;
  if (code !== undefined) Object.assign(wrapped, { code });
  const frames = typeof original.stack === 'string' ? original.stack.split('\n').filter((l) => /^\s*at /.test(l)) : [];
  wrapped.stack = [`${wrapped.name}: ${wrapped.message}`, ...frames].join('\n');
  return wrapped;
}

/** The raw object's bytes, opened on first read: the version the execution is for when it has one. */
async function* lazyBody(store: ObjectStore, bucket: string, key: string, versionId?: string): AsyncGenerator<Uint8Array> {
  yield* await store.get(bucket, key, versionId ? { versionId } : {});
}

/** Streams JSON Lines of one table into one stored object, with backpressure. */
class TableWriter {
  records = 0;
  /** Whether {@link end} stored the object. */
  ended = false;
  /** Lines are encoded straight into this buffer; it goes to the stream when full, and a new one is taken. */
  private buffer = Buffer.allocUnsafe(WRITE_CHUNK);
  private used = 0;
  private readonly stream = new PassThrough({ highWaterMark: WRITE_CHUNK });
  private readonly stored: Promise<ObjectInfo>;

  constructor(
    store: ObjectStore,
    bucket: string,
    readonly key: string,
  ) {
    this.stored = store.put(bucket, key, this.stream, { contentType: 'application/x-ndjson' });
    // Observed in write()/end()/abort(); avoids an unhandled rejection while the transform still runs.
    this.stored.catch(() => undefined);
  }

  /** Buffers a line; returns a promise only when the buffer is flushed to the stream. */
  write(line: string): Promise<void> | undefined {
    this.records++;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a line that may not fit goes after the buffer is flushed.
    if (this.used + line.length * 3 <= this.buffer.length) {
      this.used += this.buffer.write(line, this.used);
      return undefined;
    }
    return this.flush(line);
  }

  private async flush(line?: string): Promise<void> {
    const chunks = this.used === 0 ? [] : [this.buffer.subarray(0, this.used)];
    if (this.used > 0) this.buffer = Buffer.allocUnsafe(WRITE_CHUNK);
    this.used = 0;
    if (line !== undefined) {
      if (line.length * 3 <= this.buffer.length) this.used = this.buffer.write(line);
      else chunks.push(Buffer.from(line));
    }
    let drained = true;
    for (const chunk of chunks) drained = this.stream.write(chunk) && drained;
    if (drained) return;
    await Promise.race([
      once(this.stream, 'drain'),
      this.stored.then(() => {
        throw new Error(`The store finished ${this.key} before its records were written.`);
      }),
    ]);
  }

  async end(): Promise<void> {
    await this.flush();
    this.stream.end();
    await this.stored;
    this.ended = true;
  }

  async abort(error: unknown): Promise<void> {
    this.stream.destroy(error instanceof Error ? error : new Error(String(error)));
    await this.stored.catch(() => undefined);
  }
}

/** A staged key recorded for another raw object: recording it for this one would hand that object's key to it. */
export class StagedKeyConflictError extends Error {
  /** Machine-readable reason. */
  readonly code = 'STAGED_KEY_CONFLICT';

  constructor(
    readonly stagedObject: string,
    readonly owner: string,
    readonly source: string,
  ) {
    super(
      `${stagedObject} is recorded as staged from ${owner}; ${source} must not take it over. Stage the object under another key (rename it) and upload it again.`,
    );
    this.name = 'StagedKeyConflictError';
  }
}

/**
 * Stage A post-update: records each staged object in `ObjectMetadata` (refusing, with
 * {@link StagedKeyConflictError}, a key recorded as staged from another raw object: nothing of this execution is
 * queued then), sends one message per staged object to
 * the dataset's stage B queue (deduplicated per execution attempt and key), then one message to stage B's wake
 * queue when `options.wakeQueueUrl` is set, marks the execution SUCCEEDED with its outputs and updates the
 * `Pipelines` and `Datasets` items. Idempotent for a retried step (a retry may wake stage B twice: harmless).
 */
export async function stageAPostUpdate(
  execution: StageAExecutionInput,
  result: LightTransformOutput,
  deps: Pick<PipelineDeps, 'metadata' | 'queue' | 'logger' | 'clock'>,
  options: StageAPostUpdateOptions = {},
): Promise<ExecutionItem> {
  const outputs = parseTransformOutput(result);
  const current = await deps.metadata.getExecution(execution.team, execution.executionId);
  const attempt = current?.attempt ?? 1;
  const source = objectUri(execution.bucket, execution.key);
  for (const output of outputs) {
    const owner = await deps.metadata.putStagedObject({
      id: objectUri(output.bucket, output.key),
      bucket: output.bucket,
      key: output.key,
      stage: 'stage',
      status: 'STAGED',
      team: execution.team,
      dataset: execution.dataset,
      executionId: execution.executionId,
      table: output.table,
      ...(output.records === undefined ? {} : { records: output.records }),
      source,
      recordedAt: deps.clock().toISOString(),
    });
    if (owner !== undefined) throw new StagedKeyConflictError(objectUri(output.bucket, output.key), owner, source);
  }
  const messages = outputs.map((output) => {
    const message: StageBMessage = {
      bucket: output.bucket,
      key: output.key,
      team: execution.team,
      dataset: execution.dataset,
      sourceExecutionId: execution.executionId,
    };
    return {
      body: JSON.stringify(message),
      // One group per staged key: stage B batches need no order, and a FIFO group with messages in flight
      // returns no more until they are deleted, which would cap a batch at one receive.
      groupId: deduplicationIdOf(output.bucket, output.key).slice(0, 32),
      deduplicationId: deduplicationIdOf(execution.executionId, attempt, output.bucket, output.key),
    };
  });
  // Pipelines without a stage B (the custom type, stage A only) register no stage B queue: the staged objects
  // are the end of the line.
  if (messages.length > 0 && execution.stageBQueueUrl !== '') {
    await deps.queue.send(execution.stageBQueueUrl, messages);
    // After the stage B messages, so the trigger this wakes finds them.
    if (options.wakeQueueUrl) await wakeStageB(deps, options.wakeQueueUrl, execution, messages.length);
  }
  const done = await deps.metadata.transition(execution.team, execution.executionId, 'SUCCEEDED', {
    at: deps.clock().toISOString(),
    note: 'post-update',
    outputs,
  });
  await recordRun(deps, execution, done);
  deps.logger.info('Stage A execution succeeded', { executionId: done.id, outputs: outputs.length });
  return done;
}

/** Options of {@link stageAPostUpdate}. */
export interface StageAPostUpdateOptions {
  /** Stage B's wake queue: told of the objects staged. @default none: stage B starts by its trigger being invoked */
  readonly wakeQueueUrl?: string;
}

async function wakeStageB(
  deps: Pick<PipelineDeps, 'queue'>,
  wakeQueueUrl: string,
  execution: StageAExecutionInput,
  staged: number,
): Promise<void> {
  await deps.queue.send(wakeQueueUrl, [{ body: stageBWakeBody(execution, staged, execution.executionId) }]);
}

function parseTransformOutput(result: unknown): ExecutionOutput[] {
  const outputs = (result as LightTransformOutput | undefined)?.outputs;
  if (!Array.isArray(outputs)) throw new Error(`The light transform result has no "outputs" list: ${JSON.stringify(result)}`);
  return outputs.map((output: LightTransformOutput['outputs'][number]) => ({
    bucket: output.bucket,
    key: output.key,
    table: output.table,
    records: output.records,
  }));
}

/** Options of {@link stageAOnError}. */
export interface StageAOnErrorOptions {
  /** The team pipeline's stage A dead-letter queue. */
  readonly deadLetterQueueUrl: string;
  readonly ttlDays: number;
}

/** What {@link stageAOnError} recorded. */
export interface OnErrorResult {
  readonly executionId: string;
  readonly status: 'FAILED' | 'SUCCEEDED';
  readonly error: string;
  readonly cause: string;
}

/**
 * Stage A error: puts the original message on the dead-letter queue first (so it is never lost), then records
 * the execution as FAILED with the cause (creating it when pre-update never ran) and updates `Pipelines` and
 * `Datasets`. When the execution had already SUCCEEDED (a duplicate run that pre-update refused), it changes
 * nothing and reports SUCCEEDED.
 */
export async function stageAOnError(
  execution: StageAExecutionInput,
  error: unknown,
  deps: Pick<PipelineDeps, 'metadata' | 'queue' | 'logger' | 'clock'>,
  options: StageAOnErrorOptions,
): Promise<OnErrorResult> {
  const failure = failureOf(error);
  const existing = await deps.metadata.getExecution(execution.team, execution.executionId);
  if (existing?.status === 'SUCCEEDED') {
    deps.logger.warn('A duplicate stage A run failed; the execution already succeeded', { executionId: existing.id, ...failure });
    return { executionId: existing.id, status: 'SUCCEEDED', ...failure };
  }
  const attempt = existing?.attempt ?? 1;
  await deps.queue.send(options.deadLetterQueueUrl, [
    {
      body: execution.message,
      groupId: datasetGroupOf(execution.team, execution.dataset),
      deduplicationId: deduplicationIdOf('dlq', execution.executionId, attempt),
    },
  ]);
  const failed = await failExecution(deps, existing, {
    id: execution.executionId,
    stage: 'a',
    team: execution.team,
    dataset: execution.dataset,
    pipeline: execution.pipeline,
    source: objectUri(execution.bucket, execution.key),
    failure,
    ttlDays: options.ttlDays,
  });
  await recordRun(deps, execution, failed);
  deps.logger.error('Stage A execution failed', { executionId: failed.id, ...failure });
  return { executionId: failed.id, status: 'FAILED', ...failure };
}

/** Moves an execution to FAILED, creating it first when it was never started. */
export async function failExecution(
  deps: Pick<PipelineDeps, 'metadata' | 'clock'>,
  existing: ExecutionItem | undefined,
  execution: {
    readonly id: string;
    readonly stage: 'a' | 'b';
    readonly team: string;
    readonly dataset: string;
    readonly pipeline: string;
    readonly source: string;
    readonly keys?: readonly string[];
    readonly failure: ReturnType<typeof failureOf>;
    readonly ttlDays: number;
  },
): Promise<ExecutionItem> {
  const item = existing ?? (await startExecutionRecord(deps, execution, execution.ttlDays));
  if (item.status === 'FAILED') return item;
  return deps.metadata.transition(item.team, item.id, 'FAILED', {
    at: deps.clock().toISOString(),
    note: 'error',
    failure: execution.failure,
  });
}
