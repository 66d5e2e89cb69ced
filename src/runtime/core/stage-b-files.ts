/**
 * The files of a stage B batch in the artifacts bucket: the manifest the trigger writes, and the job result the
 * Glue runner writes beside it.
 */
import type { DatasetParameter } from '../contract.js';
import { manifestKeyOf } from './ids.js';
import { ObjectNotFoundError, type ObjectStore } from './ports.js';

/** Writes a batch's manifest (a JSON list of `s3://` URIs) to the artifacts bucket; returns its `s3://` URI. */
export async function writeManifest(
  store: ObjectStore,
  artifactsBucket: string,
  config: Pick<DatasetParameter, 'team' | 'dataset'>,
  executionId: string,
  uris: readonly string[],
): Promise<string> {
  const manifestKey = manifestKeyOf(config.team, config.dataset, executionId);
  await store.put(artifactsBucket, manifestKey, `${JSON.stringify(uris, null, 1)}\n`, {
    contentType: 'application/json',
  });
  return `s3://${artifactsBucket}/${manifestKey}`;
}

/** Reads a batch manifest back; undefined when it does not exist. */
export async function readManifest(store: ObjectStore, bucket: string, key: string): Promise<string[] | undefined> {
  const text = await readTextIfExists(store, bucket, key);
  if (text === undefined) return undefined;
  const uris = JSON.parse(text) as unknown;
  if (!Array.isArray(uris) || !uris.every((uri) => typeof uri === 'string')) {
    throw new Error(`Manifest s3://${bucket}/${key} is not a JSON list of s3:// URIs.`);
  }
  return uris;
}

/** Reads an object as UTF-8 text, or returns undefined when it does not exist (one GET, no HEAD first). */
export async function readTextIfExists(store: ObjectStore, bucket: string, key: string): Promise<string | undefined> {
  let body: AsyncIterable<Uint8Array>;
  try {
    body = await store.get(bucket, key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
