import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertName, DDK_FILE } from '../config/load.js';
import { BUILTIN_PIPELINE_TYPES } from '../config/model.js';
import { projectPaths } from '../config/paths.js';
import { SdlfError } from '../core/errors.js';
import { type FileChange, writeFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { renderTemplateTree } from './templates.js';

/** Options of {@link addPipeline}. */
export interface AddPipelineOptions {
  /** Project root. */
  readonly root: string;
  /** Name of the pipeline type: lowercase letters, digits and dashes. */
  readonly name: string;
  /** One line describing the type. @default 'S3 event → stage A light transform (Lambda) only' */
  readonly description?: string;
  /** Reports what would be written and writes nothing. @default false */
  readonly dryRun?: boolean;
  /** Overwrites an existing module. @default false */
  readonly force?: boolean;
}

/** What {@link addPipeline} did. */
export interface AddPipelineResult {
  readonly root: string;
  readonly name: string;
  /** The module, relative to the root. */
  readonly file: string;
  readonly changes: readonly FileChange[];
  readonly dryRun: boolean;
}

/** The values the `pipeline` template tree prints. */
export interface PipelineTemplateView {
  readonly name: string;
  readonly description: string;
}

/**
 * Scaffolds `pipelines/<name>.ts`: a working stage-A-only pipeline type composed from the constructs of
 * `sdlf/constructs`, which `sdlf add-dataset --pipeline <name>` and `sdlf synth` accept at once.
 */
export async function addPipeline(options: AddPipelineOptions, io: Io): Promise<AddPipelineResult> {
  assertName('pipeline', options.name);
  if ((BUILTIN_PIPELINE_TYPES as readonly string[]).includes(options.name)) {
    throw new SdlfError(`"${options.name}" is a built-in pipeline type.`, {
      code: 'PIPELINE_EXISTS',
      suggestions: [`Choose another name, e.g. "${options.name}-v2"; datasets can use "${options.name}" as it is.`],
    });
  }
  if (!existsSync(join(options.root, DDK_FILE))) {
    throw new SdlfError(`${options.root} is not an sdlf project: it has no ${DDK_FILE}.`, {
      code: 'NOT_A_PROJECT',
      suggestions: ['Pass the project folder with --path, or create a project with "sdlf init".'],
    });
  }
  const view: PipelineTemplateView = {
    name: options.name,
    description: options.description ?? 'S3 event → stage A light transform (Lambda) only',
  };
  const files = await renderTemplateTree('pipeline', view);
  const changes = await writeFiles({ root: options.root, files }, { dryRun: options.dryRun, force: options.force }, io);
  return {
    root: options.root,
    name: options.name,
    file: projectPaths.pipeline(options.name),
    changes,
    dryRun: options.dryRun ?? false,
  };
}
