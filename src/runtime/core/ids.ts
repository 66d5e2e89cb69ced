/**
 * Deterministic ids and keys. Every id the pipeline derives comes from here, so a redelivered event or message
 * computes the same id and finds the work already done.
 */
import { createHash } from 'node:crypto';

function digest(...parts: ReadonlyArray<string | number | undefined>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part ?? ''}\u0000`);
  return hash.digest('hex');
}

/** What identifies one version of an object. */
export interface ObjectVersion {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly etag?: string;
}

/**
 * Id of one object version: `a-` and 40 hex characters of a SHA-256 of bucket, key and version id (or, on an
 * unversioned bucket, the ETag). Two events for the same upload share it; a new upload of the same key gets a new
 * one. It is the stage A execution id, the Step Functions execution name and the SQS deduplication id.
 */
export function objectIdOf(object: ObjectVersion): string {
  return `a-${digest(object.bucket, object.key, object.versionId ?? `etag:${object.etag ?? ''}`).slice(0, 40)}`;
}

/**
 * Id of a stage B batch: `b-` and 40 hex characters of a SHA-256 of the dataset, its sorted, distinct keys and the
 * sorted, distinct stage A executions that staged them. A redelivered batch gets the same id; another set of keys,
 * or the same keys staged again from a new upload, a different one.
 */
export function batchIdOf(team: string, dataset: string, keys: readonly string[], sources: readonly string[] = []): string {
  const sorted = (values: readonly string[]) => [...new Set(values)].sort();
  const parts = sources.length === 0 ? sorted(keys) : [...sorted(keys), '|', ...sorted(sources)];
  return `b-${digest(team, dataset, ...parts).slice(0, 40)}`;
}

/**
 * Step Functions execution name of an attempt: the execution id for the first attempt, `{id}-{attempt}` after a
 * redrive (names are unique per state machine for 90 days, so a retry needs a new one).
 */
export function workflowNameOf(executionId: string, attempt: number): string {
  return attempt <= 1 ? executionId : `${executionId}-${attempt}`;
}

/** SQS deduplication id of a message derived from `parts`: 64 hex characters. */
export function deduplicationIdOf(...parts: ReadonlyArray<string | number>): string {
  return digest(...parts);
}

/** Hex characters of the raw key's SHA-256 in a staged key: 48 bits. */
const STAGED_KEY_HASH_LENGTH = 12;
/** Characters of the source name kept in a staged key; the hash keeps longer names apart. */
const STAGED_NAME_MAX = 200;

/**
 * Key of a staged object: `{team}/{dataset}/{table}/{name}-{hash}.jsonl`. `name` is the raw key's path below
 * `{team}/{dataset}/` with its extension kept, `/` written as `__` and any character but letters, digits, `.`,
 * `_` and `-` as `_` (so no name is a glob pattern for Spark or DuckDB); `hash` is 12 hex characters of the
 * SHA-256 of the whole raw key and its version id, when it has one. `2024/01/persons.json` →
 * `2024__01__persons.json-<hash>.jsonl`.
 *
 * The name is for people; the hash tells raw objects apart, so `persons.json` and `persons.csv`, or
 * `2024/01/persons.json` and `2024__01__persons.json`, get different staged keys, and so do two versions of one
 * key: each version is processed once, and two quick uploads never race to write one staged object.
 * Deterministic: reprocessing a raw object version overwrites its own staged objects. Stage A's post-update refuses a staged key recorded for another
 * raw object (see `MetadataStore.putStagedObject`), so even a hash collision cannot pass silently.
 */
export function stagedKeyOf(team: string, dataset: string, table: string, sourceKey: string, versionId?: string): string {
  const prefix = `${team}/${dataset}/`;
  const relative = sourceKey.startsWith(prefix) ? sourceKey.slice(prefix.length) : sourceKey;
  const readable = relative.replaceAll('/', '__').replaceAll(/[^\p{L}\p{N}._-]/gu, '_');
  const name = Array.from(readable).slice(0, STAGED_NAME_MAX).join('') || 'object';
  const hashed = versionId ? `${sourceKey}\u0000${versionId}` : sourceKey;
  const hash = createHash('sha256').update(hashed).digest('hex').slice(0, STAGED_KEY_HASH_LENGTH);
  return `${prefix}${table}/${name}-${hash}.jsonl`;
}

/** Key of a stage B batch manifest in the artifacts bucket: `manifests/{team}/{dataset}/{executionId}.json`. */
export function manifestKeyOf(team: string, dataset: string, executionId: string): string {
  return `manifests/${team}/${dataset}/${executionId}.json`;
}

/**
 * Key of the result the Glue runner writes beside a manifest: `….result.json` (the tables it wrote, see
 * `StageBJobResult`).
 */
export function jobResultKeyOf(manifestKey: string): string {
  return manifestKey.replace(/\.json$/, '.result.json');
}

/** Splits `s3://bucket/key` into its parts; throws for anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new Error(`"${uri}" is not an s3://bucket/key URI.`);
  return { bucket: match[1], key: match[2] };
}
