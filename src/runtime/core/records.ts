/**
 * Keeps the execution history, `Datasets` and `Pipelines` items up to date as executions run.
 */
import { datasetConfigOf } from '../../config/model.js';
import type { PipelineDeps } from './deps.js';
import { expiresAtOf } from './executions.js';
import { type DatasetItem, datasetKeyOf, type ExecutionItem, type NewExecution } from './model.js';

/** What a stage knows of an execution it starts; {@link startExecutionRecord} adds the dataset key and times. */
export type ExecutionStart = Pick<NewExecution, 'id' | 'stage' | 'team' | 'dataset' | 'pipeline' | 'source' | 'keys'>;

/**
 * Records an execution as STARTED (or restarts a FAILED one), started now by the clock and kept for `ttlDays`;
 * returns the stored item.
 */
export async function startExecutionRecord(
  deps: Pick<PipelineDeps, 'metadata' | 'clock'>,
  execution: ExecutionStart,
  ttlDays: number,
): Promise<ExecutionItem> {
  const now = deps.clock();
  const at = now.toISOString();
  const { execution: item } = await deps.metadata.startExecution(
    {
      id: execution.id,
      stage: execution.stage,
      team: execution.team,
      dataset: execution.dataset,
      pipeline: execution.pipeline,
      datasetKey: datasetKeyOf(execution.team, execution.dataset),
      startedAt: at,
      source: execution.source,
      ...(execution.keys ? { keys: execution.keys } : {}),
      expiresAt: expiresAtOf(now, ttlDays),
    },
    at,
  );
  return item;
}

/**
 * Writes the dataset's `Datasets` item from its configuration when the item is missing or older than the
 * configuration's version; keeps the item's last-run fields.
 */
export async function registerDataset(
  deps: Pick<PipelineDeps, 'metadata' | 'configs' | 'clock'>,
  team: string,
  dataset: string,
): Promise<void> {
  const config = await deps.configs.get(team, dataset);
  if (!config) return;
  const existing = await deps.metadata.getDataset(team, dataset);
  if (existing && existing.version >= config.version && existing.pipeline === config.pipeline) return;
  const item: DatasetItem = {
    ...(existing?.lastStageA ? { lastStageA: existing.lastStageA } : {}),
    ...(existing?.lastStageB ? { lastStageB: existing.lastStageB } : {}),
    name: datasetKeyOf(team, dataset),
    ...datasetConfigOf(config),
    team,
    dataset,
    version: config.version,
    updatedAt: deps.clock().toISOString(),
  };
  await deps.metadata.putDataset(item);
}

/** Records a finished execution as the last run of its stage on the `Pipelines` (and `Datasets`) items. */
export async function recordRun(
  deps: Pick<PipelineDeps, 'metadata'>,
  where: { readonly team: string; readonly pipeline: string },
  execution: ExecutionItem,
): Promise<void> {
  await deps.metadata.recordPipelineRun({
    team: where.team,
    pipeline: where.pipeline,
    stage: execution.stage,
    execution: {
      executionId: execution.id,
      dataset: execution.dataset,
      status: execution.status,
      at: execution.endedAt ?? execution.updatedAt,
      ...(execution.durationMs === undefined ? {} : { durationMs: execution.durationMs }),
    },
  });
}
