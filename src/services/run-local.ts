import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { assertName, loadProject } from '../config/load.js';
import type { DatasetConfig, DeploymentEnvironment, Project } from '../config/model.js';
import { projectPaths } from '../config/paths.js';
import { SdlfError } from '../core/errors.js';
import { displayPath, listDataFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { didYouMean } from '../core/suggest.js';
import { loadDuckDb } from '../local/duckdb.js';
import { loadLightTransform } from '../local/light-transform.js';
import { acquireLocalLock, LOCK_FILE } from '../local/lock.js';
import {
  type LocalHeavyTransform,
  type LocalInput,
  type LocalObjectRun,
  type LocalPipelineRun,
  type LocalStageBRun,
  type LocalTableRun,
  localLayout,
  runLocalPipeline,
} from '../local/pipeline.js';
import { checkSparkEnvironment } from '../local/spark-job.js';
import { parseTransformSql, TransformSqlError } from '../runtime/core/sql.js';
import { heavyTransformFolder, heavyTransformProblem, pipelineHasStageB } from './heavy-transform.js';

/** Options of {@link runLocal}. */
export interface RunLocalOptions {
  /** Project root. */
  readonly root: string;
  readonly team: string;
  readonly dataset: string;
  /** Environment id from `ddk.json`. @default the first environment of ddk.json */
  readonly env?: string;
  /** Input files or folders (absolute, or relative to `root`). @default data/<team>/<dataset>/ */
  readonly inputs?: readonly string[];
  /** Empties `.sdlf/local/<env>/` (local outputs and run history; the bundle cache stays) first. @default false */
  readonly fresh?: boolean;
  /**
   * What runs stage B: `duckdb` runs `transform.sql` with DuckDB; `spark` runs the heavy transform's own
   * `main.py` (the Glue job) on local PySpark. @default 'duckdb'
   */
  readonly engine?: LocalEngine;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/** The engines of a local stage B. */
export const LOCAL_ENGINES = ['duckdb', 'spark'] as const;
/** One of {@link LOCAL_ENGINES}. */
export type LocalEngine = (typeof LOCAL_ENGINES)[number];

/** One input object in a {@link RunLocalResult}: its {@link LocalObjectRun}, with paths relative to the project. */
export interface RunLocalObject extends Omit<LocalObjectRun, 'file' | 'outputs' | 'failure'> {
  /** The input file, relative to the project when inside it. */
  readonly input: string;
  /** Staged objects, with their path relative to the project. */
  readonly outputs: ReadonlyArray<Omit<LocalObjectRun['outputs'][number], 'key'> & { readonly path: string }>;
  /** The failure, as `Error: cause`. */
  readonly error?: string;
}

/** One output table in a {@link RunLocalResult}: its {@link LocalTableRun}, with its folder relative to the project. */
export interface RunLocalTable extends Omit<LocalTableRun, 'dir'> {
  /** Folder of the table's Parquet files, relative to the project. */
  readonly path: string;
}

/** Stage B in a {@link RunLocalResult}: its {@link LocalStageBRun}, tables apart. */
export interface RunLocalStageB extends Omit<LocalStageBRun, 'tables' | 'failure' | 'skipped' | 'older'> {
  /** The failure, as `Error: cause`. */
  readonly error?: string;
  readonly skipped: NonNullable<LocalStageBRun['skipped']>;
  readonly older: NonNullable<LocalStageBRun['older']>;
}

/** What {@link runLocal} did. */
export interface RunLocalResult {
  readonly root: string;
  readonly env: string;
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  /** `.sdlf/local/<env>`, relative to the project. */
  readonly localDir: string;
  readonly objects: readonly RunLocalObject[];
  readonly stageB: RunLocalStageB;
  readonly tables: readonly RunLocalTable[];
  /** Objects (and stage B) that failed. */
  readonly failed: number;
  readonly timings: LocalPipelineRun['timings'] & { readonly totalMs: number };
}

/**
 * Runs a dataset's pipeline on local files with the pipeline logic the Lambda functions run: routing, stage A
 * (the project's light transform, bundled as synth bundles it) and stage B (`transform.sql` with DuckDB), writing
 * `raw/`, `stage/`, `analytics/` and the metadata tables under `.sdlf/local/<env>/`. An object that fails is
 * reported FAILED with its reason and the others go on. Throws an {@link SdlfError} for a wrong environment,
 * dataset or input, a light transform that does not bundle, or a `transform.sql` that breaks the convention.
 */
export async function runLocal(options: RunLocalOptions, io: Io): Promise<RunLocalResult> {
  const clock = options.clock ?? (() => new Date());
  const begun = clock().getTime();
  assertName('team', options.team);
  assertName('dataset', options.dataset);
  const project = await loadProject(options.root);
  for (const warning of project.warnings) io.warn(warning);
  const environment = pickEnvironment(project, options.env);
  const datasets = project.datasets[environment.id] ?? [];
  const dataset = pickDataset(project, environment, datasets, options.team, options.dataset);
  const inputs = await resolveInputs(project.root, dataset, options.inputs);
  const heavy = await heavyTransformOf(project, environment.id, dataset, options.engine ?? 'duckdb');

  const localDir = join(project.root, projectPaths.localRun(environment.id));
  const layout = localLayout(localDir);
  const release = await acquireLocalLock(localDir);
  try {
    if (options.fresh) await clearLocalDir(localDir, io, project.root);
    io.info(`bundling transforms/light/${dataset.stageATransform}.ts`);
    const transform = await loadLightTransform({
      projectRoot: project.root,
      transform: dataset.stageATransform,
      outDir: layout.build,
    });
    const run = await runLocalPipeline({ environment, datasets, dataset, inputs, transform, heavy, localDir, clock }, io);
    const result = reportOf(run, project.root, layout);
    return {
      root: project.root,
      env: environment.id,
      team: dataset.team,
      dataset: dataset.dataset,
      pipeline: dataset.pipeline,
      localDir: displayPath(localDir, project.root),
      ...result,
      timings: { ...run.timings, totalMs: clock().getTime() - begun },
    };
  } finally {
    await release();
  }
}

/** The objects, stage B, tables and failures of a {@link RunLocalResult}: `run` with paths relative to `root`. */
function reportOf(
  run: LocalPipelineRun,
  root: string,
  layout: ReturnType<typeof localLayout>,
): Pick<RunLocalResult, 'objects' | 'stageB' | 'tables' | 'failed'> {
  const show = (path: string) => displayPath(path, root);
  const stagePath = (key: string) => show(join(layout.stage, ...key.split('/')));
  const objects: RunLocalObject[] = run.objects.map((object) => ({
    input: show(object.file),
    key: object.key,
    status: object.status,
    ...(object.executionId ? { executionId: object.executionId } : {}),
    ...(object.durationMs === undefined ? {} : { durationMs: object.durationMs }),
    outputs: object.outputs.map((o) => ({
      table: o.table,
      path: stagePath(o.key),
      ...(o.records === undefined ? {} : { records: o.records }),
    })),
    ...(object.failure ? { error: `${object.failure.error}: ${object.failure.cause}` } : {}),
    ...(object.stack ? { stack: object.stack } : {}),
    ...(object.reason ? { reason: object.reason } : {}),
  }));
  const { stageB } = run;
  const failed = objects.filter((o) => o.status !== 'SUCCEEDED').length + (stageB.status === 'FAILED' ? 1 : 0);
  return {
    objects,
    stageB: {
      status: stageB.status,
      ...(stageB.executionId ? { executionId: stageB.executionId } : {}),
      ...(stageB.durationMs === undefined ? {} : { durationMs: stageB.durationMs }),
      ...(stageB.failure ? { error: `${stageB.failure.error}: ${stageB.failure.cause}` } : {}),
      ...(stageB.reason ? { reason: stageB.reason } : {}),
      skipped: stageB.skipped ?? [],
      older: stageB.older ?? [],
    },
    tables: stageB.tables.map((t) => ({
      table: t.table,
      rows: t.rows,
      path: show(t.dir),
      partitionBy: t.partitionBy,
      files: t.files,
    })),
    failed,
  };
}

/**
 * Empties `.sdlf/local/<env>/` (the local lake and its history: derived data only, never the project's files),
 * keeping the lock this run holds and the light transform bundle cache, which holds no data.
 */
async function clearLocalDir(localDir: string, io: Io, root: string): Promise<void> {
  const layout = localLayout(localDir);
  const keep = new Set([LOCK_FILE, basename(layout.build), basename(layout.cache)]);
  const entries = await readdir(localDir).catch(() => [] as string[]);
  for (const entry of entries) if (!keep.has(entry)) await rm(join(localDir, entry), { recursive: true, force: true });
  io.info(`fresh run: emptied ${displayPath(localDir, root)}`);
}

function pickEnvironment(project: Project, env: string | undefined): DeploymentEnvironment {
  const ids = project.environments.map((e) => e.id);
  const environment = env === undefined ? project.environments[0] : project.environments.find((e) => e.id === env);
  if (environment) return environment;
  if (env === undefined) {
    throw new SdlfError(`${project.ddkFile} defines no deployment environment to run in.`, {
      code: 'NO_ENVIRONMENT',
      suggestions: [`Add one to ${project.ddkFile}, e.g. "dev": { "account": "…", "region": "…" }.`],
    });
  }
  throw new SdlfError(`Environment "${env}" is not in ${project.ddkFile}: ${didYouMean(env, ids)}`, {
    code: 'UNKNOWN_ENVIRONMENT',
    suggestions: [ids.length > 0 ? `Use --env ${ids[0]}.` : `Add "${env}" to ${project.ddkFile}.`],
  });
}

function pickDataset(
  project: Project,
  environment: DeploymentEnvironment,
  datasets: readonly DatasetConfig[],
  team: string,
  name: string,
): DatasetConfig {
  const found = datasets.find((d) => d.team === team && d.dataset === name);
  if (found) return found;
  const known = datasets.map((d) => `${d.team}/${d.dataset}`);
  throw new SdlfError(
    `Dataset "${team}/${name}" is not registered for environment "${environment.id}" in ${project.parametersFile}: ${didYouMean(`${team}/${name}`, known)}`,
    {
      code: 'UNKNOWN_DATASET',
      suggestions: [`Register it with "sdlf add-dataset --team ${team} --dataset ${name}", or pick a registered one.`],
    },
  );
}

/** Turns files and folders into raw keys `{team}/{dataset}/{name}`; folders contribute their files recursively. */
async function resolveInputs(root: string, dataset: DatasetConfig, given: readonly string[] | undefined): Promise<LocalInput[]> {
  const prefix = `${dataset.team}/${dataset.dataset}/`;
  const sampleDir = projectPaths.sampleData(dataset.team, dataset.dataset);
  const sources = given && given.length > 0 ? given.map((p) => resolve(root, p)) : [join(root, sampleDir)];
  const inputs: LocalInput[] = [];
  for (const source of sources) {
    const stats = await stat(source).catch(() => undefined);
    if (!stats) {
      throw new SdlfError(`Input ${source} does not exist.`, {
        code: 'INPUT_NOT_FOUND',
        suggestions: given?.length
          ? ['Pass existing files or folders with --input.']
          : [`Put sample files in ${sampleDir}/, or pass them with --input.`],
      });
    }
    if (stats.isFile()) inputs.push({ file: source, key: `${prefix}${basename(source)}` });
    else
      for (const file of await listDataFiles(source))
        inputs.push({ file, key: `${prefix}${relative(source, file).split(sep).join('/')}` });
  }
  if (inputs.length === 0) {
    throw new SdlfError(`There is no input file in ${sources.map((s) => displayPath(s, root)).join(', ')}.`, {
      code: 'NO_INPUT',
      suggestions: [`Put sample files in ${sampleDir}/, or pass them with --input.`],
    });
  }
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const other = seen.get(input.key);
    if (other && other !== input.file) {
      throw new SdlfError(`Inputs ${other} and ${input.file} would both be uploaded as ${input.key}.`, {
        code: 'DUPLICATE_INPUT',
        suggestions: ['Rename one of the files, or run them one at a time.'],
      });
    }
    seen.set(input.key, input.file);
  }
  return [...new Map(inputs.map((i) => [i.key, i])).values()];
}

/** Decides how stage B runs locally: `transform.sql` with DuckDB, or Glue only, or not at all (custom pipeline). */
async function heavyTransformOf(
  project: Project,
  env: string,
  dataset: DatasetConfig,
  engine: LocalEngine,
): Promise<LocalHeavyTransform> {
  const root = project.root;
  if (!(await pipelineHasStageB(project, dataset.pipeline))) {
    return { kind: 'none', reason: `the ${dataset.pipeline} pipeline has stage A only` };
  }
  const folder = heavyTransformFolder(root, dataset.stageBTransform);
  const { sqlFile, script } = folder;
  const problem = heavyTransformProblem(root, dataset, { file: project.parametersFile, path: env });
  if (problem) throw SdlfError.fromProblems(`Stage B of ${dataset.team}/${dataset.dataset} cannot run:`, [problem]);
  if (engine === 'spark') {
    checkSparkEnvironment();
    return { kind: 'spark', script: script.path, workdir: join(root, folder.dir) };
  }
  const scriptFile = projectPaths.heavyTransformScript(dataset.stageBTransform);
  if (script.source === 'own' && !(folder.hasSql && (await readFile(script.path, 'utf8')).includes('transform.sql'))) {
    return {
      kind: 'glue-only',
      reason: `${scriptFile} is PySpark of your own that does not run transform.sql: run it with --engine spark`,
    };
  }
  // Before stage A touches anything: a run that cannot reach stage B's engine must not stage half a batch.
  await loadDuckDb(`Stage B of ${dataset.team}/${dataset.dataset} (the DuckDB engine of run --local)`);
  try {
    return { kind: 'sql', statements: parseTransformSql(await readFile(join(root, sqlFile), 'utf8'), sqlFile) };
  } catch (error) {
    if (!(error instanceof TransformSqlError)) throw error;
    throw new SdlfError(error.message, {
      code: 'INVALID_TRANSFORM_SQL',
      suggestions: [
        `Fix ${sqlFile}: statements are "CREATE TABLE <name> [PARTITIONED BY (<col>)] AS SELECT …" or "CREATE VIEW <name> AS SELECT …".`,
      ],
    });
  }
}

/**
 * Renders a {@link RunLocalResult} for people: objects, stage B, tables with row counts, timings. With `verbose`,
 * each object that failed in this run is followed by the stack of its error.
 */
export function formatRunLocalSummary(result: RunLocalResult, options: { readonly verbose?: boolean } = {}): string[] {
  const n = (value: number) => value.toLocaleString('en-US');
  const ms = (value: number | undefined) => (value === undefined ? '' : `${n(value)} ms`);
  const lines = [
    `Local run of ${result.team}/${result.dataset} (environment ${result.env}, pipeline ${result.pipeline}) in ${result.localDir}`,
    '',
    'Objects (routing → stage A)',
  ];
  const width = Math.max(...result.objects.map((o) => o.key.length));
  for (const object of result.objects) {
    const head = `  ${object.status.padEnd(10)} ${object.key.padEnd(width)}`;
    if (object.status === 'SUCCEEDED') {
      const outputs = object.outputs.map((o) => `${o.table} (${n(o.records ?? 0)} records)`).join(', ') || 'no records';
      lines.push(`${head}  → ${outputs}  ${ms(object.durationMs)}`.trimEnd());
    } else {
      lines.push(`${head}  ${object.error ?? object.reason ?? ''}`.trimEnd());
      if (options.verbose && object.stack) {
        for (const frame of object.stack.split('\n').filter((line) => /^\s*at /.test(line))) lines.push(`      ${frame.trim()}`);
      }
    }
  }
  const { stageB } = result;
  lines.push(
    '',
    `Stage B: ${stageB.status}${stageB.executionId ? ` (${stageB.executionId})` : ''}${stageB.durationMs === undefined ? '' : ` in ${ms(stageB.durationMs)}`}`,
  );
  if (stageB.reason) lines.push(`  ${stageB.reason}`);
  if (stageB.error) lines.push(`  ${stageB.error}`);
  for (const skip of stageB.skipped) lines.push(`  skipped ${skip.name}: it ${skip.reason}`);
  for (const older of stageB.older) {
    lines.push(
      `  ${older.table} is from an earlier batch (${older.lastExecution}): this batch did not write it, so it does not reflect this run's input`,
    );
  }
  if (result.tables.length > 0) {
    lines.push('', 'Tables');
    const name = Math.max(...result.tables.map((t) => t.table.length));
    const rows = Math.max(...result.tables.map((t) => n(t.rows).length));
    for (const table of result.tables) {
      const partitions = table.partitionBy.length > 0 ? `  (partitioned by ${table.partitionBy.join(', ')})` : '';
      lines.push(`  ${table.table.padEnd(name)}  ${n(table.rows).padStart(rows)} rows  ${table.path}${partitions}`);
    }
  }
  const t = result.timings;
  lines.push(
    '',
    `Timings: routing ${ms(t.routingMs)}, stage A ${ms(t.stageAMs)}, stage B ${ms(t.stageBMs)}, total ${ms(t.totalMs)}`,
  );
  if (result.failed > 0) {
    const stacks = !options.verbose && result.objects.some((o) => o.stack) ? ' --verbose adds the stack of each error.' : '';
    lines.push(`${result.failed} failed: see the reasons above (also in ${result.localDir}/metadata/).${stacks}`);
  }
  return lines;
}
