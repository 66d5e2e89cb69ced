import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_PIPELINE_STAGE_B, type DatasetConfig, type Project } from '../config/model.js';
import { projectPaths } from '../config/paths.js';
import type { Problem } from '../core/errors.js';
import { nearest } from '../core/suggest.js';
import { type GlueScript, glueScriptOf } from '../runtime/glue/runner.js';

/** A dataset's heavy transform folder as stage B uses it. */
export interface HeavyTransformFolder {
  /** `transforms/heavy/<name>/`, relative to the project. */
  readonly dir: string;
  /** `transforms/heavy/<name>/transform.sql`, relative to the project. */
  readonly sqlFile: string;
  /** Whether the folder holds its transform.sql. */
  readonly hasSql: boolean;
  /** The script the Glue job runs (the runner shipped with sdlf, or the user's own main.py). */
  readonly script: GlueScript;
}

/** Reads what a heavy transform folder holds. */
export function heavyTransformFolder(root: string, stageBTransform: string): HeavyTransformFolder {
  const dir = projectPaths.heavyTransformDir(stageBTransform);
  const sqlFile = projectPaths.heavyTransformSql(stageBTransform);
  return { dir, sqlFile, hasSql: existsSync(join(root, sqlFile)), script: glueScriptOf(join(root, dir)) };
}

/**
 * The problem of a dataset's heavy transform folder, if it has one: the runner that ships with sdlf needs the
 * folder's `transform.sql`, so a folder with neither that nor a `main.py` of the user's own is an error — naming a
 * misspelt `.sql` file in it when there is one. `where` says which entry of parameters.json registers the dataset.
 */
export function heavyTransformProblem(
  root: string,
  dataset: DatasetConfig,
  where: { readonly file: string; readonly path: string },
): Problem | undefined {
  const folder = heavyTransformFolder(root, dataset.stageBTransform);
  if (folder.hasSql || folder.script.source === 'own') return undefined;
  const others = existsSync(join(root, folder.dir))
    ? readdirSync(join(root, folder.dir)).filter((name) => name.toLowerCase().endsWith('.sql'))
    : [];
  const misspelt = others.length > 0 ? (nearest('transform.sql', others) ?? others[0]) : undefined;
  return {
    code: 'MISSING_TRANSFORM_SQL',
    file: where.file,
    path: where.path,
    message: misspelt
      ? `Dataset "${dataset.team}/${dataset.dataset}" needs ${folder.sqlFile}; the folder has ${folder.dir}/${misspelt} instead.`
      : `Dataset "${dataset.team}/${dataset.dataset}" needs ${folder.sqlFile} (the SQL its Glue job runs), which does not exist.`,
    suggestion: misspelt
      ? `Rename ${folder.dir}/${misspelt} to transform.sql.`
      : `Create ${folder.sqlFile} ("CREATE TABLE <name> AS SELECT …"), or own the job's PySpark with "sdlf add-dataset --team ${dataset.team} --dataset ${dataset.dataset} --glue-script --force".`,
  };
}

/**
 * Tells whether a dataset's pipeline type has a stage B. Built-in types answer from the registry; a project's own
 * type is loaded from `pipelines/<type>.ts` (which imports the CDK constructs, so only then).
 */
export async function pipelineHasStageB(project: Project, pipeline: string): Promise<boolean> {
  if (pipeline in BUILTIN_PIPELINE_STAGE_B) return BUILTIN_PIPELINE_STAGE_B[pipeline as keyof typeof BUILTIN_PIPELINE_STAGE_B];
  const { loadPipelineTypes } = await import('../app/index.js');
  return (await loadPipelineTypes(project)).hasStageB(pipeline);
}
