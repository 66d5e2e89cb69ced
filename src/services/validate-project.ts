import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadProject } from '../config/load.js';
import { BUILTIN_PIPELINE_STAGE_B, type Project } from '../config/model.js';
import { projectPaths } from '../config/paths.js';
import { type Problem, SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { duckDbInstallCommand } from '../local/duckdb.js';
import { checkSqlSyntax } from '../local/sql-syntax.js';
import { parseTransformSql, TransformSqlError, type TransformStatement } from '../runtime/core/sql.js';
import { heavyTransformProblem } from './heavy-transform.js';

/** Options of {@link validateProject}. */
export interface ValidateProjectOptions {
  /** Project root. */
  readonly root: string;
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
 * Loads the whole project and checks it: configuration, names against AWS limits, a transform file for every
 * dataset, and custom pipeline modules. Throws one {@link SdlfError} listing every problem.
 */
export async function validateProject(options: ValidateProjectOptions, io: Io): Promise<ValidateProjectResult> {
  const project = await loadProject(options.root);
  const problems = [...checkTransformFiles(project), ...(await checkTransformSql(project, io))];
  if (Object.keys(project.customPipelineFiles).length > 0) {
    // Loaded only when there are custom types: it compiles them with esbuild and imports aws-cdk-lib.
    const { checkPipelineModules } = await import('../app/load-pipelines.js');
    problems.push(...(await checkPipelineModules(project)));
  }
  if (problems.length > 0) {
    throw SdlfError.fromProblems(`The project at ${project.root} has ${problems.length} problem(s):`, problems);
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
 * PARTITIONED BY), then each query with DuckDB's parser. A problem names the file and line, and DuckDB's reason.
 */
export async function checkTransformSql(project: Project, io: Io): Promise<Problem[]> {
  const files = new Set<string>();
  for (const datasets of Object.values(project.datasets)) {
    for (const d of datasets) {
      const hasStageB = (BUILTIN_PIPELINE_STAGE_B as Readonly<Record<string, boolean>>)[d.pipeline] === true;
      const file = projectPaths.heavyTransformSql(d.stageBTransform);
      if (hasStageB && existsSync(join(project.root, file))) files.add(file);
    }
  }
  const problems: Problem[] = [];
  for (const file of [...files].sort()) {
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
    const errors = await checkSqlSyntax(statements);
    if (errors === undefined) {
      io.warn(`${file}: not parsed, as DuckDB is not installed (${duckDbInstallCommand()}).`);
      continue;
    }
    for (const error of errors) {
      problems.push({
        code: 'INVALID_TRANSFORM_SQL',
        file: `${file}:${error.line}`,
        message: `the query of ${error.name} does not parse: ${error.reason}.`,
        suggestion: 'Fix the SQL there; it must be a query that Spark SQL (on Glue) and DuckDB (locally) both accept.',
      });
    }
  }
  return problems;
}
