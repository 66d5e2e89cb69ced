import type { DatasetParameter } from '../../src/runtime/contract.js';
import type { CoreLogger, PipelineDeps } from '../../src/runtime/core/index.js';
import {
  MemoryMetadataStore,
  MemoryObjectStore,
  MemoryQueue,
  MemoryWorkflow,
  StaticDatasetConfigs,
} from '../../src/runtime/memory/index.js';

/** A dataset configuration as the CDK app writes it to SSM. */
export function datasetConfig(overrides: Partial<DatasetParameter> = {}): DatasetParameter {
  const team = overrides.team ?? 'demoteam';
  const dataset = overrides.dataset ?? 'legislators';
  return {
    team,
    dataset,
    pipeline: 'standard',
    stageATransform: 'sdlf_light_transform',
    stageBTransform: 'sdlf_heavy_transform',
    minItemsProcess: 1,
    maxItemsProcess: 100,
    lightTransformFunction: `ddk-dev-${team}-${dataset}-light-transform`,
    stageBQueueUrl: `https://sqs/ddk-dev-${team}-${dataset}-stage-b.fifo`,
    stageBDeadLetterQueueUrl: `https://sqs/ddk-dev-${team}-${dataset}-stage-b-dlq.fifo`,
    glueJob: `ddk-dev-${team}-${dataset}-heavy-transform`,
    glueDatabase: `ddk_dev_${team}_${dataset}`,
    version: 1,
    ...overrides,
  };
}

/** An EventBridge S3 "Object Created" event. */
export function objectCreated(
  key: string,
  overrides: { bucket?: string; size?: number; etag?: string; versionId?: string } = {},
) {
  return {
    version: '0',
    id: 'e0',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '222222222222',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${overrides.bucket ?? 'raw'}`],
    detail: {
      version: '0',
      bucket: { name: overrides.bucket ?? 'raw' },
      object: { key, size: overrides.size ?? 10, etag: overrides.etag ?? 'etag1', 'version-id': overrides.versionId ?? 'v1' },
      reason: 'PutObject',
    },
  };
}

/** A logger that keeps its lines. */
export function recordingLogger(): CoreLogger & {
  lines: Array<{ level: string; message: string; extra: Record<string, unknown> }>;
} {
  const lines: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Array<Record<string, unknown>>) =>
      lines.push({ level, message, extra: Object.assign({}, ...extra) });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** A clock that advances one second per call from 2026-01-01T00:00:00Z. */
export function tickingClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  return () => {
    const date = new Date(now);
    now += 1000;
    return date;
  };
}

/** Pipeline deps over in-memory adapters. */
export function memoryDeps(configs: DatasetParameter[] = [datasetConfig()]) {
  const deps = {
    store: new MemoryObjectStore(),
    metadata: new MemoryMetadataStore(),
    queue: new MemoryQueue(),
    configs: new StaticDatasetConfigs(configs),
    workflow: new MemoryWorkflow(),
    logger: recordingLogger(),
    clock: tickingClock(),
  };
  return deps satisfies PipelineDeps;
}
