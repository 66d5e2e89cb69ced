import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import type { AwsClients } from './clients.js';
import { awsErrorName, isAwsError } from './errors.js';

/** Tells whether a bucket exists (and is reachable with these credentials). */
export async function bucketExists(clients: AwsClients, bucket: string): Promise<boolean> {
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (
      isAwsError(error, 'NotFound', 'NoSuchBucket') ||
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
    ) {
      return false;
    }
    throw error;
  }
}

/** Reads a bucket's tags; an empty object when it has none. */
export async function bucketTags(clients: AwsClients, bucket: string): Promise<Record<string, string>> {
  try {
    const reply = await clients.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    return Object.fromEntries((reply.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchTagSet') return {};
    throw error;
  }
}

/**
 * Deletes every object version and delete marker of a bucket, 1000 at a time; returns how many it deleted.
 */
export async function emptyBucket(clients: AwsClients, bucket: string): Promise<number> {
  let deleted = 0;
  // Each round lists the first page again: what the previous round deleted is gone, so no markers are needed.
  for (;;) {
    const page = await clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 }));
    const batch: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].flatMap((v) =>
      v.Key ? [{ Key: v.Key, VersionId: v.VersionId ?? 'null' }] : [],
    );
    if (batch.length === 0) return deleted;
    const reply = await clients.s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.slice(0, 1000), Quiet: true } }),
    );
    const failed = reply.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0];
      throw new Error(
        `Could not delete ${failed.length} object(s) of s3://${bucket}, e.g. ${first?.Key}: ${first?.Code} ${first?.Message}`,
      );
    }
    deleted += Math.min(batch.length, 1000);
  }
}

/** Deletes an empty bucket; false when it was already gone. */
export async function deleteBucket(clients: AwsClients, bucket: string): Promise<boolean> {
  try {
    await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (isAwsError(error, 'NoSuchBucket', 'NotFound')) return false;
    throw error;
  }
}

/** Counts the current objects of a bucket and their bytes. */
export async function bucketUsage(clients: AwsClients, bucket: string): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for await (const page of paginateListObjectsV2({ client: clients.s3 }, { Bucket: bucket })) {
    for (const object of page.Contents ?? []) {
      objects += 1;
      bytes += object.Size ?? 0;
    }
  }
  return { objects, bytes };
}
