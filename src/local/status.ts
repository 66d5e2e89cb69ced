import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectPaths } from '../config/paths.js';
import { SdlfError } from '../core/errors.js';
import type { ExecutionFailure, ExecutionItem, ExecutionStatus } from '../runtime/core/model.js';
import { createLocalMetadataStore } from './metadata-store.js';
import { localLayout } from './pipeline.js';

/** Options of {@link readLocalStatus}. */
export interface ReadLocalStatusOptions {
  /** Project root. */
  readonly root: string;
  /** Environment id: reads `.sdlf/local/<env>/`. */
  readonly env: string;
  readonly team?: string;
  /** Needs `team`. */
  readonly dataset?: string;
  /** Most executions listed per dataset, newest first. @default 10 */
  readonly limit?: number;
  /** @default () => new Date() (decides which executions have expired) */
  readonly clock?: () => Date;
}

/** One execution in a status listing. */
export interface StatusExecution {
  readonly id: string;
  /** `a` (light transform of one object) or `b` (heavy transform of a batch). */
  readonly stage: 'a' | 'b';
  readonly status: ExecutionStatus;
  readonly attempt: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  /** Stage A: the raw object; stage B: the batch manifest. */
  readonly source: string;
  /** Staged objects (stage A) or tables (stage B) written. */
  readonly outputs: ReadonlyArray<{ readonly table: string; readonly key: string; readonly records?: number }>;
  readonly failure?: ExecutionFailure;
}

/** Recent executions of one dataset. */
export interface DatasetStatus {
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  /** Newest first. */
  readonly executions: readonly StatusExecution[];
}

/** What {@link readLocalStatus} found. */
export interface LocalStatusResult {
  /** Where the executions ran. */
  readonly source: 'local';
  readonly env: string;
  /** The metadata folder read. */
  readonly location: string;
  /** Datasets with at least one execution, by team then dataset. */
  readonly datasets: readonly DatasetStatus[];
}

/**
 * Reads the recent executions of `sdlf run --local` from `.sdlf/local/<env>/metadata/`, per dataset, newest first,
 * in the shape `sdlf status` shows for deployed pipelines: status, stage, attempt, duration and failure cause.
 * Throws an {@link SdlfError} when the environment has never run locally.
 */
export async function readLocalStatus(options: ReadLocalStatusOptions): Promise<LocalStatusResult> {
  if (options.dataset !== undefined && options.team === undefined) {
    throw new SdlfError(`A dataset ("${options.dataset}") needs its team to list its executions.`, {
      code: 'TEAM_REQUIRED',
      suggestions: ['Pass --team with --dataset.'],
    });
  }
  const limit = options.limit ?? 10;
  const dir = localLayout(join(resolve(options.root), projectPaths.localRun(options.env))).metadata;
  if (!existsSync(dir)) {
    throw new SdlfError(`Nothing has run locally in environment "${options.env}" yet: ${dir} does not exist.`, {
      code: 'NO_LOCAL_RUNS',
      suggestions: ['Run a dataset first: "sdlf run --local --team <team> --dataset <dataset>".'],
    });
  }
  const store = createLocalMetadataStore({ dir, ...(options.clock ? { clock: options.clock } : {}) });
  const all = await store.listExecutions({
    ...(options.team === undefined ? {} : { team: options.team }),
    ...(options.dataset === undefined ? {} : { dataset: options.dataset }),
    limit: Number.MAX_SAFE_INTEGER,
  });
  const byDataset = new Map<string, ExecutionItem[]>();
  for (const item of all) {
    const list = byDataset.get(item.datasetKey) ?? [];
    if (list.length < limit) list.push(item);
    byDataset.set(item.datasetKey, list);
  }
  const datasets = [...byDataset.values()]
    .map((items) => {
      const first = items[0] as ExecutionItem;
      return { team: first.team, dataset: first.dataset, pipeline: first.pipeline, executions: items.map(summariseExecution) };
    })
    .sort((a, b) => (a.team === b.team ? a.dataset.localeCompare(b.dataset) : a.team.localeCompare(b.team)));
  return { source: 'local', env: options.env, location: dir, datasets };
}

/** Shapes an execution history item into a status listing entry; both `sdlf status` sources use it. */
export function summariseExecution(item: ExecutionItem): StatusExecution {
  return {
    id: item.id,
    stage: item.stage,
    status: item.status,
    attempt: item.attempt,
    startedAt: item.startedAt,
    ...(item.endedAt === undefined ? {} : { endedAt: item.endedAt }),
    ...(item.durationMs === undefined ? {} : { durationMs: item.durationMs }),
    source: item.source,
    outputs: (item.outputs ?? []).map((o) => ({
      table: o.table,
      key: o.key,
      ...(o.records === undefined ? {} : { records: o.records }),
    })),
    ...(item.failure ? { failure: item.failure } : {}),
  };
}
