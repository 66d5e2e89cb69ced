import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { cdkJsonContext } from '../config/cdk-json.js';
import { loadProject } from '../config/load.js';
import { locateProblems } from '../config/locate.js';
import { BUILTIN_PIPELINE_STAGE_B, type DatasetConfig, type Project } from '../config/model.js';
import { projectPaths } from '../config/paths.js';
import { type Problem, SdlfError } from '../core/errors.js';
import { listDataFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { duckDbInstallCommand } from '../local/duckdb.js';
import { loadLightTransform } from '../local/light-transform.js';
import { checkSparkEnvironment, GLUE_SPARK_VERSION, type SparkEnvironment } from '../local/spark-job.js';
import {
  checkSqlWithSpark,
  SparkSqlCheckError,
  type SparkSqlJob,
  type SparkSqlJobResult,
  stageSample,
} from '../local/spark-sql-check.js';
import { checkSqlSyntax } from '../local/sql-syntax.js';
import { parseTransformSql, TransformSqlError, type TransformStatement } from '../runtime/core/sql.js';
import type { LightTransform } from '../runtime/transform/types.js';
import { heavyTransformProblem } from './heavy-transform.js';

/** Options of {@link validateProject}. */
export interface ValidateProjectOptions {
  /** Project root. */
  readonly root: string;
  /** Checks transform.sql with Spark SQL too, where PySpark and Java are installed. @default true */
  readonly spark?: boolean;
}

/** What {@link validateProject} found. */
export interface ValidateProjectResult {
  readonly root: string;
  /** `project_id` of ddk.json; null in a project made before project ids. */
  readonly projectId: string | null;
  readonly parametersFile: string;
  readonly environments: ReadonlyArray<{ id: string; account: string; region: string; resourcePrefix: string; datasets: number }>;
  readonly datasets: ReadonlyArray<{
    env: string;
    team: string;
    dataset: string;
    pipeline: string;
    stageATransform: string;
    stageBTransform: string;
  }>;
  readonly pipelineTypes: readonly string[];
  readonly cicd: { enabled: boolean; account: string; region: string; source: string };
  readonly warnings: readonly string[];
}

/**
 * Loads the whole project and checks it: configuration (ddk.json, parameters.json, cdk.json), names against AWS limits, a transform file for every
 * dataset, and custom pipeline modules. Throws one {@link SdlfError} listing every problem.
 */
export async function validateProject(options: ValidateProjectOptions, io: Io): Promise<ValidateProjectResult> {
  const project = await loadProject(options.root);
  // cdk.json is read by every synth (and by plain `cdk`): a broken one is refused here, with its line and column.
  await cdkJsonContext(project.root);
  const problems = [...checkTransformFiles(project), ...(await checkTransformSql(project, io, { spark: options.spark ?? true }))];
  if (Object.keys(project.customPipelineFiles).length > 0) {
    // Loaded only when there are custom types: it compiles them with esbuild and imports aws-cdk-lib.
    const { checkPipelineModules } = await import('../app/load-pipelines.js');
    problems.push(...(await checkPipelineModules(project)));
  }
  if (problems.length > 0) {
    throw SdlfError.fromProblems(
      `The project at ${project.root} has ${problems.length} problem(s):`,
      locateProblems(project.root, problems),
    );
  }
  for (const warning of project.warnings) io.warn(warning);
  const all = project.environments.flatMap((environment) =>
    (project.datasets[environment.id] ?? []).map((d) => ({ env: environment.id, ...d })),
  );
  return {
    root: project.root,
    projectId: project.projectId ?? null,
    parametersFile: project.parametersFile,
    environments: project.environments.map((e) => ({
      id: e.id,
      account: e.account,
      region: e.region,
      resourcePrefix: e.resourcePrefix,
      datasets: project.datasets[e.id]?.length ?? 0,
    })),
    datasets: all.map(({ env, team, dataset, pipeline, stageATransform, stageBTransform }) => ({
      env,
      team,
      dataset,
      pipeline,
      stageATransform,
      stageBTransform,
    })),
    pipelineTypes: ['standard', 'custom', ...Object.keys(project.customPipelineFiles)],
    cicd: {
      enabled: project.cicd.enabled,
      account: project.cicd.account,
      region: project.cicd.region,
      source: `${project.cicd.source.provider}:${project.cicd.source.repository}@${project.cicd.source.branch}`,
    },
    warnings: project.warnings,
  };
}

/**
 * Lists the datasets whose light transform is missing, and those of a pipeline with stage B whose heavy transform
 * has neither its `transform.sql` nor a `main.py` of the user's own (see {@link heavyTransformProblem}).
 */
export function checkTransformFiles(project: Project): Problem[] {
  const problems: Problem[] = [];
  const reported = new Set<string>();
  for (const [env, datasets] of Object.entries(project.datasets)) {
    for (const d of datasets) {
      const hasStageB = (BUILTIN_PIPELINE_STAGE_B as Readonly<Record<string, boolean>>)[d.pipeline] === true;
      if (hasStageB && !reported.has(d.stageBTransform)) {
        const problem = heavyTransformProblem(project.root, d, { file: project.parametersFile, path: env });
        if (problem) {
          reported.add(d.stageBTransform);
          problems.push(problem);
        }
      }
      const needed = [projectPaths.lightTransform(d.stageATransform)];
      for (const file of needed) {
        if (existsSync(join(project.root, file)) || reported.has(file)) continue;
        reported.add(file);
        problems.push({
          code: 'MISSING_TRANSFORM',
          file: project.parametersFile,
          path: env,
          message: `Dataset "${d.team}/${d.dataset}" needs ${file}, which does not exist.`,
          suggestion: `Scaffold it with "sdlf add-dataset --team ${d.team} --dataset ${d.dataset} --pipeline ${d.pipeline}", or create the file.`,
        });
      }
    }
  }
  return problems;
}

/**
 * Checks every `transform.sql` of a dataset with stage B: the transform.sql convention (statements, names,
 * PARTITIONED BY), then each query with DuckDB's parser, then with Spark SQL where PySpark and Java are installed
 * (see {@link checkTransformSqlWithSpark}). A problem names the file and line, and the engine's reason.
 */
export async function checkTransformSql(
  project: Project,
  io: Io,
  options: { readonly spark: boolean } = { spark: true },
): Promise<Problem[]> {
  const files = new Map<string, Array<DatasetConfig & { env: string }>>();
  for (const [env, datasets] of Object.entries(project.datasets)) {
    for (const d of datasets) {
      const hasStageB = (BUILTIN_PIPELINE_STAGE_B as Readonly<Record<string, boolean>>)[d.pipeline] === true;
      const file = projectPaths.heavyTransformSql(d.stageBTransform);
      if (hasStageB && existsSync(join(project.root, file))) files.set(file, [...(files.get(file) ?? []), { env, ...d }]);
    }
  }
  const problems: Problem[] = [];
  const parsed: ParsedTransformSql[] = [];
  for (const file of [...files.keys()].sort()) {
    let statements: TransformStatement[];
    try {
      statements = parseTransformSql(await readFile(join(project.root, file), 'utf8'), file);
    } catch (error) {
      if (!(error instanceof TransformSqlError)) throw error;
      problems.push({
        code: 'INVALID_TRANSFORM_SQL',
        file: `${file}:${error.line}`,
        message: error.reason,
        suggestion:
          'Statements are "CREATE TABLE <name> [PARTITIONED BY (<col>)] AS SELECT …" or "CREATE VIEW <name> AS SELECT …".',
      });
      continue;
    }
    const rejected = new Set<number>();
    parsed.push({ file, statements, datasets: files.get(file) ?? [], rejected });
    const errors = await checkSqlSyntax(statements);
    if (errors === undefined) {
      io.warn(`${file}: not parsed, as DuckDB is not installed (${duckDbInstallCommand()}).`);
      continue;
    }
    for (const error of errors) {
      rejected.add(error.line);
      problems.push({
        code: 'INVALID_TRANSFORM_SQL',
        file: `${file}:${error.line}`,
        message: `the query of ${error.name} does not parse: ${error.reason}.`,
        suggestion: 'Fix the SQL there; it must be a query that Spark SQL (on Glue) and DuckDB (locally) both accept.',
      });
    }
  }
  if (options.spark) problems.push(...(await checkTransformSqlWithSpark(project, parsed, io)));
  return problems;
}

/** A transform.sql that follows the convention, the datasets that run it, and the lines DuckDB rejected. */
interface ParsedTransformSql {
  readonly file: string;
  readonly statements: readonly TransformStatement[];
  readonly datasets: ReadonlyArray<DatasetConfig & { env: string }>;
  readonly rejected: ReadonlySet<number>;
}

/**
 * Checks the queries with Spark SQL, as the Glue job runs them, in one short-lived local Spark session for the
 * whole project. For each dataset with sample data (`data/<team>/<dataset>/`), its light transform stages the
 * sample as stage A does and the queries are analyzed over those staged tables (Spark's JSON inference, as the
 * Glue runner's input views); without sample data they are only parsed. Where PySpark or Java is missing, it
 * notes so and checks nothing. A statement DuckDB already rejected is not reported twice.
 */
async function checkTransformSqlWithSpark(project: Project, parsed: readonly ParsedTransformSql[], io: Io): Promise<Problem[]> {
  if (parsed.length === 0) return [];
  let spark: SparkEnvironment;
  try {
    spark = checkSparkEnvironment(process.env, 'Checking transform.sql with Spark SQL');
  } catch (error) {
    if (!(error instanceof SdlfError)) throw error;
    const how = (error.suggestions ?? []).join(' ').replace(/,$/, '');
    io.warn(
      `transform.sql not checked with Spark SQL: ${error.message.replace(/^Checking transform\.sql with Spark SQL /, 'it ')} ${how}`,
    );
    return [];
  }
  io.debug(`Checking transform.sql with Spark SQL (PySpark ${spark.pysparkVersion})`);
  const tmpDir = await mkdtemp(join(tmpdir(), 'sdlf-validate-'));
  try {
    const jobs: Array<SparkSqlJob & { file: string; dataset?: string; rejected: ReadonlySet<number> }> = [];
    const transforms = new Map<string, LightTransform | undefined>();
    for (const { file, statements, datasets, rejected } of parsed) {
      const seen = new Set<string>();
      for (const d of datasets) {
        const label = `${d.team}/${d.dataset}`;
        if (seen.has(`${label}/${d.stageATransform}`)) continue;
        seen.add(`${label}/${d.stageATransform}`);
        const sampleDir = join(project.root, projectPaths.sampleData(d.team, d.dataset));
        const samples = existsSync(sampleDir) ? await listDataFiles(sampleDir) : [];
        if (samples.length === 0) continue;
        if (!transforms.has(d.stageATransform)) {
          transforms.set(
            d.stageATransform,
            await loadLightTransform({
              projectRoot: project.root,
              transform: d.stageATransform,
              outDir: join(tmpDir, 'build'),
            }).catch((error: unknown) => {
              if (!(error instanceof SdlfError)) throw error;
              io.warn(`${file}: not analyzed over the sample data of ${label}: ${error.message}`);
              return undefined;
            }),
          );
        }
        const transform = transforms.get(d.stageATransform);
        if (transform === undefined) continue;
        const staged = await stageSample({
          team: d.team,
          dataset: d.dataset,
          env: d.env,
          inputs: samples.map((path) => ({ file: path, key: `${label}/${relative(sampleDir, path).split(sep).join('/')}` })),
          transform,
          outDir: join(tmpDir, 'staged', `${jobs.length}`),
        });
        for (const failure of staged.failed) {
          io.warn(
            `${relative(project.root, failure.file)}: the light transform ${d.stageATransform} fails on it (${failure.reason}); ${file} is analyzed without it.`,
          );
        }
        jobs.push({ id: `${jobs.length}`, file, dataset: label, views: staged.tables, statements, rejected });
      }
      if (!jobs.some((job) => job.file === file)) jobs.push({ id: `${jobs.length}`, file, statements, rejected });
    }
    let results: SparkSqlJobResult[];
    try {
      results = await checkSqlWithSpark(jobs, { tmpDir });
    } catch (error) {
      if (!(error instanceof SparkSqlCheckError)) throw error;
      io.warn(`transform.sql not checked with Spark SQL: Spark did not start (${error.reason}).`);
      return [];
    }
    const problems: Problem[] = [];
    const reported = new Set<string>();
    for (const result of results) {
      const job = jobs.find((j) => j.id === result.id);
      if (job === undefined) continue;
      const over = job.dataset ? ` over the sample data of ${job.dataset}` : '';
      for (const error of result.errors) {
        const key = `${job.file}:${error.line}:${error.reason}`;
        if (job.rejected.has(error.line) || reported.has(key)) continue;
        reported.add(key);
        problems.push({
          code: 'INVALID_TRANSFORM_SQL_SPARK',
          file: `${job.file}:${error.line}`,
          message: `Spark SQL ${GLUE_SPARK_VERSION} rejects the query of ${error.name}${over}: ${error.reason}`,
          suggestion:
            'Fix the SQL there; it must be a query that Spark SQL (on Glue) and DuckDB (locally) both accept. "sdlf run --local --engine spark" runs it on Spark.',
        });
      }
      for (const statement of result.unresolved) {
        io.warn(
          `${job.file}:${statement.line}: ${statement.name} reads ${statement.relation}, which neither the sample data of ${job.dataset ?? 'the dataset'} nor an earlier statement defines; Spark SQL only parsed it (the Glue job skips it in a batch without ${statement.relation}).`,
        );
      }
    }
    return problems;
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}
