import { join } from 'node:path';
import { type DatasetConfig, type DeploymentEnvironment, datasetConfigOf } from '../config/model.js';
import { Naming } from '../config/naming.js';
import type { Io } from '../core/io.js';
import {
  type DatasetParameter,
  MAX_RECEIVE_COUNT,
  type StageAExecutionInput,
  type StageBExecutionInput,
} from '../runtime/contract.js';
import type { PipelineDeps } from '../runtime/core/deps.js';
import { deduplicationIdOf, jobResultKeyOf, parseS3Uri } from '../runtime/core/ids.js';
import type { ExecutionFailure, ExecutionItem } from '../runtime/core/model.js';
import type { CoreLogger } from '../runtime/core/ports.js';
import { routeObject } from '../runtime/core/route.js';
import type { TransformStatement } from '../runtime/core/sql.js';
import { processObject, startStageA } from '../runtime/core/stage-a.js';
import type { StageBJobResult } from '../runtime/core/stage-b.js';
import { triggerStageB } from '../runtime/core/stage-b.js';
import { runStep } from '../runtime/core/step.js';
import { MemoryQueue, type MemoryRedrivePolicy, MemoryWorkflow, StaticDatasetConfigs } from '../runtime/memory/index.js';
import type { LightTransform } from '../runtime/transform/types.js';
import { type LocalCatalogEntry, listLocalCatalogTables, registerLocalTable } from './catalog.js';
import { runTransformSqlWithDuckDb, type SkippedStatement } from './duckdb-transform.js';
import { openFileHashCache } from './hash-cache.js';
import { createLocalMetadataStore, type LocalMetadataStore } from './metadata-store.js';
import { createLocalObjectStore, type LocalObjectStore } from './object-store.js';
import { recoverInterruptedRun, unbatchedStagedObjects } from './recover.js';
import { runSparkJob } from './spark-job.js';

/** Days a local execution history item is kept, as the deployed tables keep them. */
export const LOCAL_EXECUTION_TTL_DAYS = 90;

/** Layout of `.sdlf/local/<env>/`: one folder per bucket, the metadata tables, bundles and DuckDB spill space. */
export function localLayout(localDir: string) {
  return {
    root: localDir,
    raw: join(localDir, 'raw'),
    stage: join(localDir, 'stage'),
    analytics: join(localDir, 'analytics'),
    artifacts: join(localDir, 'artifacts'),
    metadata: join(localDir, 'metadata'),
    build: join(localDir, 'build'),
    /** What is kept between runs, even by --fresh: the MD5s of the input files (see `openFileHashCache`). */
    cache: join(localDir, 'cache'),
    tmp: join(localDir, 'tmp'),
    /** The local Glue catalog of `--engine spark`: `<database>/<table>.json`. */
    catalog: join(localDir, 'catalog'),
    /** Spark's log of each local stage B run. */
    logs: join(localDir, 'logs'),
  } as const;
}

/** How stage B runs for a dataset locally. */
export type LocalHeavyTransform =
  | { readonly kind: 'sql'; readonly statements: readonly TransformStatement[] }
  /** The heavy transform's PySpark `main.py` on local Spark (`--engine spark`), run from `workdir`. */
  | { readonly kind: 'spark'; readonly script: string; readonly workdir: string }
  | { readonly kind: 'glue-only'; readonly reason: string }
  | { readonly kind: 'none'; readonly reason: string };

/** One input file and the raw key it is uploaded as. */
export interface LocalInput {
  /** Absolute path of the file. */
  readonly file: string;
  /** Raw key: `{team}/{dataset}/{relative name}`. */
  readonly key: string;
}

/** Options of {@link runLocalPipeline}. */
export interface RunLocalPipelineOptions {
  readonly environment: DeploymentEnvironment;
  /** Every dataset of the environment (the team's pipeline sees them all, as on AWS). */
  readonly datasets: readonly DatasetConfig[];
  readonly dataset: DatasetConfig;
  readonly inputs: readonly LocalInput[];
  readonly transform: LightTransform;
  readonly heavy: LocalHeavyTransform;
  /** `.sdlf/local/<env>/`, absolute. */
  readonly localDir: string;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/** What happened to one input object. */
export interface LocalObjectRun {
  readonly file: string;
  readonly key: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'NOT_ROUTED';
  readonly executionId?: string;
  readonly durationMs?: number;
  readonly outputs: ReadonlyArray<{ readonly table: string; readonly key: string; readonly records?: number }>;
  readonly failure?: ExecutionFailure;
  /** Stack of the error that failed it in this run (source-mapped to the light transform's own lines). */
  readonly stack?: string;
  /** Why a NOT_ROUTED object was not processed. */
  readonly reason?: string;
}

/** One table stage B wrote. */
export interface LocalTableRun {
  readonly table: string;
  readonly rows: number;
  /** Absolute folder of the table. */
  readonly dir: string;
  readonly partitionBy: readonly string[];
  /** Parquet files written. */
  readonly files: number;
}

/** What stage B did. */
export interface LocalStageBRun {
  /**
   * SUCCEEDED / FAILED: it ran. GLUE_ONLY: the heavy transform is PySpark without a transform.sql. NOT_IN_PIPELINE:
   * the pipeline has no stage B. NO_INPUT: stage A staged nothing. UNCHANGED: this exact batch ran before.
   */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'GLUE_ONLY' | 'NOT_IN_PIPELINE' | 'NO_INPUT' | 'UNCHANGED';
  readonly executionId?: string;
  readonly durationMs?: number;
  readonly tables: readonly LocalTableRun[];
  readonly failure?: ExecutionFailure;
  readonly reason?: string;
  /** Statements of transform.sql skipped because the batch lacked a table they read. */
  readonly skipped?: readonly SkippedStatement[];
  /**
   * Tables of the dataset that this batch did not write (an input of theirs failed, or is not in this run): they
   * are as an earlier batch left them, beside this batch's tables.
   */
  readonly older?: readonly LocalCatalogEntry[];
}

/** What {@link runLocalPipeline} did. */
export interface LocalPipelineRun {
  readonly objects: readonly LocalObjectRun[];
  readonly stageB: LocalStageBRun;
  /** Milliseconds spent per stage. */
  readonly timings: { readonly routingMs: number; readonly stageAMs: number; readonly stageBMs: number };
}

/**
 * Runs one dataset's pipeline locally with the pipeline core the Lambda functions run (`src/runtime/core`),
 * behind local adapters: the input files are put in the raw bucket folder and routed as S3 "Object Created"
 * events; the stage A queue is drained into in-process stage A executions (pre-update → light transform →
 * post-update, or error); then the stage B trigger batches the staged keys into one stage B execution whose job
 * runs `transform.sql` with DuckDB and writes the result file the Glue runner writes.
 */
export async function runLocalPipeline(options: RunLocalPipelineOptions, io: Io): Promise<LocalPipelineRun> {
  return new LocalPipelineRunner(options, io).run();
}

/** The physical names of the environment's buckets. */
interface LocalBuckets {
  readonly raw: string;
  readonly stage: string;
  readonly analytics: string;
  readonly artifacts: string;
}

/** What the stand-in of the Glue job wrote for one stage B execution. */
interface HeavyJobRun {
  readonly tables: LocalTableRun[];
  readonly skipped: readonly SkippedStatement[];
}

/** An input routed (with the object id of its version) or dropped (with the reason). */
interface RoutedInput {
  readonly input: LocalInput;
  readonly objectId?: string;
  readonly reason?: string;
}

/**
 * One local run: the local adapters wired to the pipeline core, the two state machines run in-process when the
 * core starts them, and the loops that drive routing, stage A and stage B.
 */
class LocalPipelineRunner {
  private readonly clock: () => Date;
  private readonly layout: ReturnType<typeof localLayout>;
  private readonly naming: Naming;
  private readonly team: string;
  private readonly dataset: string;
  private readonly pipeline: string;
  private readonly buckets: LocalBuckets;
  private readonly store: LocalObjectStore;
  private readonly metadata: LocalMetadataStore;
  private readonly queue: MemoryQueue;
  private readonly stateMachines: { readonly a: string; readonly b: string };
  private readonly deps: PipelineDeps;
  /** Stage A executions this run started (an input whose bytes already ran starts none). */
  private readonly startedNow = new Set<string>();
  /** Stacks of the stage A errors of this run, by execution id (the metadata keeps the message only). */
  private readonly stacks = new Map<string, string>();
  private readonly stageBRuns = new Map<string, HeavyJobRun>();

  constructor(
    private readonly options: RunLocalPipelineOptions,
    private readonly io: Io,
  ) {
    const clock = options.clock ?? (() => new Date());
    const naming = Naming.forEnvironment(options.environment);
    this.clock = clock;
    this.layout = localLayout(options.localDir);
    this.naming = naming;
    ({ team: this.team, dataset: this.dataset, pipeline: this.pipeline } = options.dataset);
    this.buckets = {
      raw: naming.bucket('raw'),
      stage: naming.bucket('stage'),
      analytics: naming.bucket('analytics'),
      artifacts: naming.bucket('artifacts'),
    };
    this.store = createLocalObjectStore({
      buckets: {
        [this.buckets.raw]: { dir: this.layout.raw, versioned: true },
        [this.buckets.stage]: { dir: this.layout.stage },
        [this.buckets.analytics]: { dir: this.layout.analytics },
        [this.buckets.artifacts]: { dir: this.layout.artifacts },
      },
    });
    this.metadata = createLocalMetadataStore({ dir: this.layout.metadata, clock });
    this.queue = new MemoryQueue(
      () => clock().getTime(),
      localRedrivePolicies(naming, this.team, this.pipeline, options.datasets, queueUrl),
    );
    this.stateMachines = {
      a: naming.stateMachine(this.team, this.pipeline, 'a'),
      b: naming.stateMachine(this.team, this.pipeline, 'b'),
    };
    const configs = new StaticDatasetConfigs(options.datasets.map((d) => localDatasetParameter(naming, d, queueUrl)));
    const workflow = new MemoryWorkflow(({ stateMachine, input }) => this.runStateMachine(stateMachine, input));
    this.deps = {
      store: this.store,
      metadata: this.metadata,
      queue: this.queue,
      configs,
      workflow,
      logger: coreLogger(io),
      clock,
    };
  }

  /** Recovers what an earlier run left, then routes the inputs and runs stage A and stage B, timing each. */
  async run(): Promise<LocalPipelineRun> {
    await this.recoverInterruptedRun();
    await this.requeueUnbatched();
    let started = this.clock().getTime();
    const routed = await this.route();
    const routingMs = this.clock().getTime() - started;
    this.io.info(`routing: ${this.options.inputs.length} object(s) put in raw/ and routed (${routingMs} ms)`);

    started = this.clock().getTime();
    await this.drainStageAQueue();
    const objects = await this.objectRuns(routed);
    const stageAMs = this.clock().getTime() - started;

    // Stage B: batch everything staged in this run into one execution (locally min 1 item, no max).
    started = this.clock().getTime();
    const stageB = await this.runStageB(objects);
    const stageBMs = this.clock().getTime() - started;
    this.io.info(`stage B: ${stageB.status}${stageB.reason ? ` (${stageB.reason})` : ''} (${stageBMs} ms)`);
    return { objects, stageB, timings: { routingMs, stageAMs, stageBMs } };
  }

  private get stepOptions() {
    return {
      ttlDays: LOCAL_EXECUTION_TTL_DAYS,
      stageADeadLetterQueueUrl: queueUrl(this.naming.stageADeadLetterQueue(this.team, this.pipeline)),
      stageBucket: this.buckets.stage,
    };
  }

  /** What an earlier run left when it was killed: its temporary files, unfinished executions and lost messages. */
  private async recoverInterruptedRun(): Promise<void> {
    const recovered = await recoverInterruptedRun(this.options.localDir, this.metadata, {
      at: this.clock().toISOString(),
      stageBucket: this.buckets.stage,
    });
    if (recovered.interrupted.length > 0 || recovered.removed.length > 0) {
      this.io.warn(
        `An earlier local run of this environment ended before it finished: ${recovered.interrupted.length} execution(s) marked INTERRUPTED (${recovered.interrupted.map((e) => e.id).join(', ') || 'none'}) and ${recovered.removed.length} temporary file(s) removed. This run processes their objects again.`,
      );
    }
  }

  /** Puts the staged objects of an earlier run that never reached stage B back on the stage B queue. */
  private async requeueUnbatched(): Promise<void> {
    const { team, dataset } = this;
    const requeued = this.options.heavy.kind === 'none' ? [] : await unbatchedStagedObjects(this.metadata, { team, dataset });
    if (requeued.length === 0) return;
    await this.queue.send(
      queueUrl(this.naming.stageBQueue(team, dataset)),
      requeued.map((message) => ({
        body: JSON.stringify(message),
        groupId: deduplicationIdOf(message.bucket, message.key).slice(0, 32),
        deduplicationId: deduplicationIdOf('requeued', message.sourceExecutionId, message.bucket, message.key),
      })),
    );
    this.io.warn(
      `${requeued.length} staged object(s) of ${team}/${dataset} from an earlier run never reached stage B; this run's stage B batch includes them.`,
    );
  }

  /** Runs a state machine the core started, in-process, to its end. */
  private async runStateMachine(stateMachine: string, input: unknown): Promise<void> {
    if (stateMachine === this.stateMachines.a) return this.runStageAExecution(input as StageAExecutionInput);
    if (stateMachine === this.stateMachines.b) return this.runStageBExecution(input as StageBExecutionInput);
    throw new Error(`No local state machine "${stateMachine}".`);
  }

  /** The stage A state machine: pre-update → light transform → post-update, or error. */
  private async runStageAExecution(execution: StageAExecutionInput): Promise<void> {
    try {
      await runStep({ step: 'pre-update', execution }, this.deps, this.stepOptions);
      const result = await processObject(
        {
          bucket: execution.bucket,
          key: execution.key,
          versionId: execution.versionId,
          team: this.team,
          dataset: this.dataset,
          executionId: execution.executionId,
          size: execution.size,
        },
        this.options.transform,
        this.deps,
        { stageBucket: this.buckets.stage, env: this.options.environment.id },
      );
      await runStep({ step: 'post-update', execution, result }, this.deps, this.stepOptions);
    } catch (error) {
      if (error instanceof Error && error.stack) this.stacks.set(execution.executionId, error.stack);
      await runStep({ step: 'error', execution, error: catchOutput(error) }, this.deps, this.stepOptions);
    }
  }

  /** The stage B state machine: pre-update → the heavy job → post-update, or error. */
  private async runStageBExecution(execution: StageBExecutionInput): Promise<void> {
    try {
      await runStep({ step: 'pre-update', execution }, this.deps, this.stepOptions);
      this.stageBRuns.set(execution.executionId, await this.runHeavyJob(execution));
      const result = { Id: `local-${execution.executionId}` };
      await runStep({ step: 'post-update', execution, result }, this.deps, this.stepOptions);
    } catch (error) {
      await runStep({ step: 'error', execution, error: catchOutput(error) }, this.deps, this.stepOptions);
    }
  }

  /** The Glue job's local twin: the batch manifest's staged files → transform.sql → Parquet + result file. */
  private async runHeavyJob(execution: StageBExecutionInput): Promise<HeavyJobRun> {
    const { heavy } = this.options;
    if (heavy.kind === 'spark') return this.runSparkHeavyJob(execution, heavy);
    if (heavy.kind !== 'sql') throw new Error(heavy.reason);
    const { team, dataset, buckets, store } = this;
    const manifest = parseS3Uri(execution.manifest);
    const { tables: written, skipped } = await runTransformSqlWithDuckDb({
      statements: heavy.statements,
      inputs: await this.manifestInputs(manifest),
      outputDir: store.folderOf(buckets.analytics, `${team}/${dataset}/`),
      executionId: execution.executionId,
      spillDir: this.layout.tmp,
    });
    const result: StageBJobResult = {
      executionId: execution.executionId,
      tables: written.map((table) => ({
        table: table.table,
        location: `s3://${buckets.analytics}/${team}/${dataset}/${table.table}/`,
        partitionBy: table.partitionBy,
        partitions: [...new Set(table.files.map((f) => f.split('/').slice(0, -1).join('/')).filter((p) => p.length > 0))],
        files: table.files.length,
        records: table.rows,
      })),
      skipped,
    };
    await this.registerTables(written, result, execution.executionId);
    await store.put(manifest.bucket, jobResultKeyOf(manifest.key), `${JSON.stringify(result, null, 2)}\n`);
    const tables = written.map((table) => ({
      table: table.table,
      rows: table.rows,
      dir: table.dir,
      partitionBy: table.partitionBy,
      files: table.files.length,
    }));
    return { tables, skipped };
  }

  /** The local files of a batch manifest's staged objects, by table. */
  private async manifestInputs(manifest: { bucket: string; key: string }): Promise<Record<string, string[]>> {
    const uris = JSON.parse(await readAll(await this.store.get(manifest.bucket, manifest.key))) as string[];
    const inputs: Record<string, string[]> = {};
    for (const uri of uris) {
      const { bucket, key } = parseS3Uri(uri);
      const table = key.split('/')[2];
      if (!table) throw new Error(`Staged key "${key}" is not {team}/{dataset}/{table}/….`);
      inputs[table] = [...(inputs[table] ?? []), this.store.pathOf(bucket, key)];
    }
    return inputs;
  }

  /** Registers the tables a DuckDB job wrote in the local Glue catalog, as the Glue job does. */
  private async registerTables(
    written: Awaited<ReturnType<typeof runTransformSqlWithDuckDb>>['tables'],
    result: StageBJobResult,
    executionId: string,
  ): Promise<void> {
    for (const table of written) {
      const entry = result.tables.find((t) => t.table === table.table);
      await registerLocalTable({
        catalogDir: this.layout.catalog,
        database: this.naming.glueDatabase(this.team, this.dataset),
        table: table.table,
        location: entry?.location ?? '',
        columns: table.columns,
        partitionBy: table.partitionBy,
        partitions: entry?.partitions ?? [],
        executionId,
      });
    }
  }

  /** The Glue job itself on local Spark: its main.py reads the manifest and writes the tables and result file. */
  private async runSparkHeavyJob(
    execution: StageBExecutionInput,
    heavy: { readonly script: string; readonly workdir: string },
  ): Promise<HeavyJobRun> {
    const { layout, buckets } = this;
    await runSparkJob(
      {
        script: heavy.script,
        workdir: heavy.workdir,
        args: {
          manifest: execution.manifest,
          team: this.team,
          dataset: this.dataset,
          database: this.naming.glueDatabase(this.team, this.dataset),
          'execution-id': execution.executionId,
          'analytics-bucket': buckets.analytics,
        },
        lake: {
          buckets: {
            [buckets.raw]: layout.raw,
            [buckets.stage]: layout.stage,
            [buckets.analytics]: layout.analytics,
            [buckets.artifacts]: layout.artifacts,
          },
          catalog: layout.catalog,
        },
        logFile: join(layout.logs, `spark-${execution.executionId}.log`),
        tmpDir: join(layout.tmp, `spark-${execution.executionId}`),
      },
      this.io,
    );
    const manifest = parseS3Uri(execution.manifest);
    const result = JSON.parse(
      await readAll(await this.store.get(manifest.bucket, jobResultKeyOf(manifest.key))),
    ) as StageBJobResult;
    return { tables: this.tablesOfResult(result), skipped: result.skipped ?? [] };
  }

  /** The tables a job result file lists, with their local folders. */
  private tablesOfResult(result: StageBJobResult): LocalTableRun[] {
    return result.tables.map((table) => {
      const location = parseS3Uri(table.location);
      return {
        table: table.table,
        rows: table.records ?? 0,
        dir: this.store.folderOf(location.bucket, location.key),
        partitionBy: table.partitionBy ?? [],
        files: table.files ?? 0,
      };
    });
  }

  /** Routing: puts each file in the raw bucket (a new version each run) and routes its "Object Created" event. */
  private async route(): Promise<Map<string, RoutedInput>> {
    const { team, pipeline } = this;
    const routed = new Map<string, RoutedInput>();
    const hashes = await openFileHashCache(join(this.layout.cache, 'input-md5.json'));
    for (const input of this.options.inputs) {
      const info = await this.store.putFile(this.buckets.raw, input.key, input.file, hashes);
      const result = await routeObject(objectCreatedEvent(info), this.deps, {
        team,
        pipeline,
        stageAQueueUrl: queueUrl(this.naming.stageAQueue(team, pipeline)),
      });
      routed.set(input.key, {
        input,
        ...(result.status === 'routed' ? { objectId: result.message.objectId } : { reason: result.reason }),
      });
    }
    await hashes.save();
    return routed;
  }

  /** Stage A: the trigger starts one execution per queued object; each runs to its end in-process. */
  private async drainStageAQueue(): Promise<void> {
    const stageAQueue = queueUrl(this.naming.stageAQueue(this.team, this.pipeline));
    for (;;) {
      const messages = await this.queue.receive(stageAQueue, { max: 10 });
      if (messages.length === 0) break;
      for (const message of messages) {
        // A local run is started on purpose: it runs again what FAILED, as "sdlf redrive" does on AWS.
        const started = await startStageA(message.body, this.deps, {
          stateMachineArn: this.stateMachines.a,
          restartFailed: true,
        });
        if (started.started) this.startedNow.add(started.executionId);
        await this.queue.delete(stageAQueue, [message.receiptHandle]);
      }
    }
  }

  /** What stage A did with each routed input, as its execution item tells. */
  private async objectRuns(routed: ReadonlyMap<string, RoutedInput>): Promise<LocalObjectRun[]> {
    const objects: LocalObjectRun[] = [];
    for (const { input, objectId, reason } of routed.values()) {
      const item = objectId ? await this.metadata.getExecution(this.team, objectId) : undefined;
      const run = objectRun(input, item, reason, item ? this.stacks.get(item.id) : undefined);
      objects.push(run);
      this.io.info(`stage A: ${input.key} ${run.status}${run.failure ? ` (${run.failure.cause.split('\n')[0]})` : ''}`);
    }
    return objects;
  }

  private async runStageB(objects: readonly LocalObjectRun[]): Promise<LocalStageBRun> {
    const { heavy } = this.options;
    const { team, dataset, pipeline } = this;
    if (heavy.kind === 'none') return { status: 'NOT_IN_PIPELINE', tables: [], reason: heavy.reason };
    if (this.queue.bodies(queueUrl(this.naming.stageBQueue(team, dataset))).length === 0) return this.nothingStaged(objects);
    if (heavy.kind === 'glue-only') return { status: 'GLUE_ONLY', tables: [], reason: heavy.reason };
    const results = await triggerStageB(this.deps, {
      team,
      pipeline,
      stateMachineArn: this.stateMachines.b,
      artifactsBucket: this.buckets.artifacts,
    });
    const mine = results.find((r) => r.team === team && r.dataset === dataset);
    const execution = mine?.executions[0];
    if (!execution) {
      const why = mine?.failed[0]?.error ?? 'the stage B trigger planned no batch';
      return { status: 'FAILED', tables: [], failure: { error: 'StageBTrigger', cause: why } };
    }
    return this.stageBOutcome(execution);
  }

  /** Stage B when its queue is empty: UNCHANGED when every input already ran with these bytes, else NO_INPUT. */
  private async nothingStaged(objects: readonly LocalObjectRun[]): Promise<LocalStageBRun> {
    if (objects.length > 0 && objects.every((o) => o.status === 'SUCCEEDED' && !this.startedNow.has(o.executionId ?? ''))) {
      const last = (await this.metadata.listExecutions({ team: this.team, dataset: this.dataset, limit: 50 })).find(
        (e) => e.stage === 'b' && e.status === 'SUCCEEDED',
      );
      return {
        status: 'UNCHANGED',
        ...(last ? { executionId: last.id } : {}),
        tables: await this.tablesOf(last),
        reason:
          'every input already ran with these bytes, so no new batch was made (as on AWS, stage B adds a batch per new object version); change or add a file, or pass --fresh to start over',
      };
    }
    return { status: 'NO_INPUT', tables: [], reason: 'stage A staged no objects in this run' };
  }

  /** What the stage B execution the trigger planned did: ran now, ran before (UNCHANGED), or failed. */
  private async stageBOutcome(execution: { readonly executionId: string; readonly started: boolean }): Promise<LocalStageBRun> {
    const item = await this.metadata.getExecution(this.team, execution.executionId);
    const ran = this.stageBRuns.get(execution.executionId);
    if (!execution.started && !ran) {
      return {
        status: 'UNCHANGED',
        executionId: execution.executionId,
        tables: item?.status === 'SUCCEEDED' ? await this.tablesOf(item) : [],
        reason: `this batch of staged objects already ran as ${execution.executionId} (${item?.status ?? 'unknown'}); pass --fresh to run stage B again from an empty local lake`,
      };
    }
    const base = {
      executionId: execution.executionId,
      ...(item?.durationMs === undefined ? {} : { durationMs: item.durationMs }),
    };
    if (item?.status !== 'SUCCEEDED') {
      return { status: 'FAILED', ...base, tables: [], ...(item?.failure ? { failure: item.failure } : {}) };
    }
    const older = (await listLocalCatalogTables(this.layout.catalog, this.naming.glueDatabase(this.team, this.dataset))).filter(
      (entry) => entry.lastExecution !== execution.executionId,
    );
    return {
      status: 'SUCCEEDED',
      ...base,
      tables: ran?.tables ?? [],
      skipped: ran?.skipped ?? [],
      ...(older.length > 0 ? { older } : {}),
    };
  }

  /** Tables of an earlier stage B execution, from the job result file beside its manifest. */
  private async tablesOf(item: ExecutionItem | undefined): Promise<LocalTableRun[]> {
    if (!item) return [];
    const manifest = parseS3Uri(item.source);
    const resultKey = jobResultKeyOf(manifest.key);
    if (!(await this.store.head(manifest.bucket, resultKey))) return [];
    return this.tablesOfResult(JSON.parse(await readAll(await this.store.get(manifest.bucket, resultKey))) as StageBJobResult);
  }
}

/** URL of a local queue, by name. */
function queueUrl(name: string): string {
  return `local://sqs/${name}`;
}

function objectRun(
  input: LocalInput,
  item: ExecutionItem | undefined,
  reason: string | undefined,
  stack: string | undefined,
): LocalObjectRun {
  if (!item) return { file: input.file, key: input.key, status: 'NOT_ROUTED', outputs: [], reason: reason ?? 'not routed' };
  return {
    file: input.file,
    key: input.key,
    status: item.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
    executionId: item.id,
    ...(item.durationMs === undefined ? {} : { durationMs: item.durationMs }),
    outputs: (item.outputs ?? []).map((o) => ({
      table: o.table,
      key: o.key,
      ...(o.records === undefined ? {} : { records: o.records }),
    })),
    ...(item.failure
      ? { failure: item.failure }
      : item.status !== 'SUCCEEDED'
        ? { failure: { error: 'Unfinished', cause: `the execution ended in ${item.status}` } }
        : {}),
    ...(stack && item.status !== 'SUCCEEDED' ? { stack } : {}),
  };
}

/** What a state machine's `Catch` hands the error step when a Lambda task throws: `{ Error, Cause }`. */
function catchOutput(error: unknown): { Error: string; Cause: string } {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: message }) };
}

/** The EventBridge "Object Created" event S3 sends for a new object. */
function objectCreatedEvent(info: { bucket: string; key: string; size: number; etag?: string; versionId?: string }) {
  return {
    source: 'aws.s3',
    'detail-type': 'Object Created',
    detail: {
      bucket: { name: info.bucket },
      object: {
        key: info.key,
        size: info.size,
        ...(info.etag ? { etag: info.etag } : {}),
        ...(info.versionId ? { 'version-id': info.versionId } : {}),
      },
    },
  };
}

/**
 * A dataset's configuration as the CDK app stores it in SSM, with local queue URLs. Locally a stage B batch takes
 * every staged object of the run (min 1, max 10,000) rather than the dataset's deployed batch limits.
 */
function localDatasetParameter(naming: Naming, d: DatasetConfig, queueUrl: (name: string) => string): DatasetParameter {
  return {
    ...datasetConfigOf(d),
    minItemsProcess: 1,
    maxItemsProcess: 10_000,
    lightTransformFunction: naming.lightTransformFunction(d.team, d.dataset),
    stageBQueueUrl: queueUrl(naming.stageBQueue(d.team, d.dataset)),
    stageBDeadLetterQueueUrl: queueUrl(naming.stageBDeadLetterQueue(d.team, d.dataset)),
    glueJob: naming.glueJob(d.team, d.dataset),
    glueDatabase: naming.glueDatabase(d.team, d.dataset),
    version: 1,
  };
}

/**
 * Sends the core's structured logs to `--verbose` output, warnings included: what they warn of locally (a skipped
 * statement, an object outside every dataset) is in the run's summary as a sentence, so it is said once.
 */
function coreLogger(io: Io): CoreLogger {
  const line = (message: string, extra: Array<Record<string, unknown>>) =>
    extra.length === 0 ? message : `${message} ${JSON.stringify(Object.assign({}, ...extra))}`;
  return {
    debug: (message, ...extra) => io.debug(line(message, extra)),
    info: (message, ...extra) => io.debug(line(message, extra)),
    warn: (message, ...extra) => io.debug(line(message, extra)),
    error: (message, ...extra) => io.debug(line(message, extra)),
  };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** The redrive policies of the local run's queues: those of the deployed stage A and stage B queues. */
function localRedrivePolicies(
  naming: Naming,
  team: string,
  pipeline: string,
  datasets: readonly { readonly team: string; readonly dataset: string }[],
  queueUrl: (name: string) => string,
): (queueUrl: string) => MemoryRedrivePolicy | undefined {
  const policies = new Map<string, MemoryRedrivePolicy>([
    [
      queueUrl(naming.stageAQueue(team, pipeline)),
      { deadLetterQueueUrl: queueUrl(naming.stageADeadLetterQueue(team, pipeline)), maxReceiveCount: MAX_RECEIVE_COUNT },
    ],
  ]);
  for (const d of datasets) {
    policies.set(queueUrl(naming.stageBQueue(d.team, d.dataset)), {
      deadLetterQueueUrl: queueUrl(naming.stageBDeadLetterQueue(d.team, d.dataset)),
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
  }
  return (url) => policies.get(url);
}
