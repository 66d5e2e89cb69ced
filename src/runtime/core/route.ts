/**
 * Routing: an S3 "Object Created" event becomes an `ObjectMetadata` item and a message on the team's stage A
 * queue. A duplicate event computes the same deduplication id, so the FIFO queue drops it.
 */
import { DROPPED_EVENTS, type StageAMessage } from '../contract.js';
import { MalformedInputError, type PipelineDeps } from './deps.js';
import { objectIdOf } from './ids.js';
import { datasetGroupOf, type ObjectMetadataItem, objectUri } from './model.js';

/** The parts of an S3 "Object Created" event the pipeline uses. */
export interface ObjectCreated {
  readonly bucket: string;
  readonly key: string;
  readonly size?: number;
  readonly etag?: string;
  readonly versionId?: string;
}

const EVENT = 'S3 Object Created event';

/**
 * Reads an EventBridge S3 "Object Created" event. Throws {@link MalformedInputError} naming the missing or
 * wrong field for anything else.
 */
export function parseObjectCreatedEvent(event: unknown): ObjectCreated {
  if (typeof event !== 'object' || event === null) throw new MalformedInputError(EVENT, 'the event is not an object');
  const { source, 'detail-type': detailType, detail } = event as Record<string, unknown>;
  if (source !== 'aws.s3' || detailType !== 'Object Created') {
    throw new MalformedInputError(
      EVENT,
      `expected source "aws.s3" and detail-type "Object Created", got ${JSON.stringify(source)} / ${JSON.stringify(detailType)}`,
    );
  }
  const { bucket, object } = (typeof detail === 'object' && detail !== null ? detail : {}) as Record<string, unknown>;
  const bucketName = (bucket as { name?: unknown } | undefined)?.name;
  if (typeof bucketName !== 'string' || bucketName.length === 0)
    throw new MalformedInputError(EVENT, 'detail.bucket.name is missing');
  const { key, size, etag, 'version-id': versionId } = (object ?? {}) as Record<string, unknown>;
  if (typeof key !== 'string' || key.length === 0) throw new MalformedInputError(EVENT, 'detail.object.key is missing');
  if (size !== undefined && (typeof size !== 'number' || size < 0)) {
    throw new MalformedInputError(EVENT, `detail.object.size must be a number, got ${JSON.stringify(size)}`);
  }
  return {
    bucket: bucketName,
    key,
    ...(typeof size === 'number' ? { size } : {}),
    ...(typeof etag === 'string' ? { etag } : {}),
    ...(typeof versionId === 'string' ? { versionId } : {}),
  };
}

/** Where routing sends objects: the handler's team and pipeline. */
export interface RouteOptions {
  readonly team: string;
  readonly pipeline: string;
  readonly stageAQueueUrl: string;
}

/** What routing did with one event. */
export type RouteResult =
  | { readonly status: 'routed'; readonly message: StageAMessage }
  | { readonly status: 'unknown-dataset'; readonly bucket: string; readonly key: string; readonly reason: string }
  | { readonly status: 'ignored'; readonly reason: string };

/**
 * Routes one event. Never throws for bad input: a malformed event or a folder marker is `ignored`, a key outside
 * the team's registered datasets (or of a dataset registered to another pipeline) is recorded in
 * `ObjectMetadata` as `UNKNOWN_DATASET` and dropped with a warning. It throws only when a store or the queue
 * fails, so the invocation is retried.
 */
export async function routeObject(
  event: unknown,
  deps: Pick<PipelineDeps, 'metadata' | 'queue' | 'configs' | 'logger' | 'clock'>,
  options: RouteOptions,
): Promise<RouteResult> {
  let object: ObjectCreated;
  try {
    object = parseObjectCreatedEvent(event);
  } catch (error) {
    if (!(error instanceof MalformedInputError)) throw error;
    deps.logger.error(`${DROPPED_EVENTS.logPrefix} a malformed event`, { reason: error.reason });
    return { status: 'ignored', reason: error.message };
  }
  if (object.key.endsWith('/')) {
    deps.logger.info('Ignored a folder marker', { bucket: object.bucket, key: object.key });
    return { status: 'ignored', reason: `"${object.key}" is a folder marker, not a data object` };
  }
  const [team, dataset, ...rest] = object.key.split('/');
  const objectId = objectIdOf(object);
  const base = {
    id: objectUri(object.bucket, object.key),
    bucket: object.bucket,
    key: object.key,
    stage: 'raw' as const,
    objectId,
    ...(object.size === undefined ? {} : { size: object.size }),
    ...(object.etag === undefined ? {} : { etag: object.etag }),
    ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
  };

  const reason = await unknownReason();
  if (reason) {
    const item: ObjectMetadataItem = {
      ...base,
      status: 'UNKNOWN_DATASET',
      ...(team ? { team } : {}),
      ...(dataset && rest.length > 0 ? { dataset } : {}),
      recordedAt: deps.clock().toISOString(),
    };
    // Under the keys of this pipeline's team, whatever team the key names: its roles may write no other.
    await deps.metadata.putObject(options.team, item);
    deps.logger.warn(`${DROPPED_EVENTS.logPrefix} an object outside any registered dataset`, {
      bucket: object.bucket,
      key: object.key,
      reason,
    });
    return { status: 'unknown-dataset', bucket: object.bucket, key: object.key, reason };
  }

  const known = { team: team as string, dataset: dataset as string };
  const message: StageAMessage = {
    bucket: object.bucket,
    key: object.key,
    team: known.team,
    dataset: known.dataset,
    pipeline: options.pipeline,
    ...(object.size === undefined ? {} : { size: object.size }),
    ...(object.etag === undefined ? {} : { etag: object.etag }),
    ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
    objectId,
  };
  await deps.metadata.putObject(known.team, { ...base, status: 'ROUTED', ...known, recordedAt: deps.clock().toISOString() });
  await deps.queue.send(options.stageAQueueUrl, [
    { body: JSON.stringify(message), groupId: datasetGroupOf(known.team, known.dataset), deduplicationId: objectId },
  ]);
  deps.logger.info('Routed an object to stage A', { ...known, key: object.key, objectId });
  return { status: 'routed', message };

  async function unknownReason(): Promise<string | undefined> {
    if (!team || !dataset || rest.length === 0) return `"${object.key}" is not under a {team}/{dataset}/ prefix`;
    if (team !== options.team) return `team "${team}" is not the team of this pipeline ("${options.team}")`;
    const config = await deps.configs.get(team, dataset);
    if (!config) return `dataset "${team}/${dataset}" is not registered`;
    if (config.pipeline !== options.pipeline) {
      return `dataset "${team}/${dataset}" is registered to pipeline "${config.pipeline}", not "${options.pipeline}"`;
    }
    return undefined;
  }
}
