/**
 * {@link ObjectStore} on Amazon S3.
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type GetObjectOptions,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type PutObjectOptions,
} from '../core/ports.js';
import { type ClientSource, clientGetter, isAwsError } from './clients.js';

const sdk = () => import('./sdk/s3.js');

/** Part size of multipart uploads of streamed bodies. */
const PART_SIZE = 8 * 1024 * 1024;

/**
 * Stores objects in S3. Text and bytes are written with one `PutObject`; a stream with a multipart upload of 8 MB
 * parts (two in flight), so memory stays flat whatever the size. A stream that fails aborts the upload: no
 * object, and no parts, are left.
 */
export class S3ObjectStore implements ObjectStore {
  private readonly s3: () => Promise<S3Client>;

  /** @param s3 the client, or a function creating it on first use */
  constructor(s3: ClientSource<S3Client>) {
    this.s3 = clientGetter(s3);
  }

  async get(bucket: string, key: string, options: GetObjectOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const [s3, { GetObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    const versionId = options.versionId || undefined;
    try {
      const response = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
      );
      if (!response.Body) throw new ObjectNotFoundError(bucket, key, versionId);
      return response.Body as Readable;
    } catch (error) {
      if (isAwsError(error, 'NoSuchKey', 'NotFound', 'NoSuchVersion')) throw new ObjectNotFoundError(bucket, key, versionId);
      if (await this.deniedBecauseMissing(error, bucket, key)) throw new ObjectNotFoundError(bucket, key, versionId);
      throw error;
    }
  }

  async put(bucket: string, key: string, body: ObjectBody, options: PutObjectOptions = {}): Promise<ObjectInfo> {
    const contentType = options.contentType ?? 'application/octet-stream';
    const [s3, { PutObjectCommand, Upload }] = await Promise.all([this.s3(), sdk()]);
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      const response = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType }));
      return {
        bucket,
        key,
        size: bytes.length,
        ...(response.ETag ? { etag: response.ETag } : {}),
        ...(response.VersionId ? { versionId: response.VersionId } : {}),
      };
    }
    let size = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of body) {
          size += chunk.length;
          yield chunk;
        }
      })(),
    );
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: counted, ContentType: contentType },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const response = await upload.done();
    return {
      bucket,
      key,
      size,
      ...(response.ETag ? { etag: response.ETag } : {}),
      ...(response.VersionId ? { versionId: response.VersionId } : {}),
    };
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    const [s3, { ListObjectsV2Command }] = await Promise.all([this.s3(), sdk()]);
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield {
          bucket,
          key: object.Key,
          size: object.Size ?? 0,
          ...(object.ETag ? { etag: object.ETag } : {}),
          ...(object.LastModified ? { lastModified: object.LastModified.toISOString() } : {}),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(bucket: string, key: string): Promise<void> {
    const [s3, { DeleteObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const [s3, { HeadObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    try {
      const response = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        bucket,
        key,
        size: response.ContentLength ?? 0,
        ...(response.ETag ? { etag: response.ETag } : {}),
        ...(response.VersionId ? { versionId: response.VersionId } : {}),
        ...(response.LastModified ? { lastModified: response.LastModified.toISOString() } : {}),
      };
    } catch (error) {
      if (isAwsError(error, 'NotFound', 'NoSuchKey')) return undefined;
      if (await this.deniedBecauseMissing(error, bucket, key)) return undefined;
      throw error;
    }
  }

  /**
   * Tells whether a 403 from a GET or HEAD means the key does not exist. sdlf's roles may list only their own
   * prefixes (`s3:ListBucket` with an `s3:prefix` condition), and without an unconditional list permission S3
   * answers a read of a missing key with 403 instead of 404. A listing of the key itself is allowed by that
   * condition: no such key → missing; the key listed, or the listing denied too → a real denial, rethrown.
   */
  private async deniedBecauseMissing(error: unknown, bucket: string, key: string): Promise<boolean> {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (!isAwsError(error, 'AccessDenied', 'Forbidden') && status !== 403) return false;
    const [s3, { ListObjectsV2Command }] = await Promise.all([this.s3(), sdk()]);
    try {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
      return page.Contents?.[0]?.Key !== key;
    } catch {
      return false;
    }
  }
}
