/**
 * Keeps the `Datasets` and `Pipelines` items up to date as executions run.
 */
import type { PipelineDeps } from './deps.js';
import { type DatasetItem, datasetKeyOf, type ExecutionItem } from './model.js';

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
    team,
    dataset,
    pipeline: config.pipeline,
    stageATransform: config.stageATransform,
    stageBTransform: config.stageBTransform,
    minItemsProcess: config.minItemsProcess,
    maxItemsProcess: config.maxItemsProcess,
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
