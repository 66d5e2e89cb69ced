import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../src/runtime/aws/s3-object-store.js';
import { ObjectNotFoundError } from '../../../src/runtime/core/ports.js';
import { readTextIfExists } from '../../../src/runtime/core/stage-b-files.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

/** What S3 answers a read it refuses: 403 AccessDenied (also for a missing key, without s3:ListBucket on it). */
function accessDenied(): S3ServiceException {
  return new S3ServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: 'Access Denied',
  });
}

const BUCKET = 'ddk-dev-artifacts-us-east-1-111111111111';
const KEY = 'manifests/sales/orders/b-1.json';

describe('S3ObjectStore reads under a prefix-scoped list grant', () => {
  it('takes a 403 for a key that the listing of the key does not show as a missing object', async () => {
    // Given S3 refuses the GET and HEAD, and the role's listing of the key itself finds a longer key only
    s3.on(GetObjectCommand).rejects(accessDenied());
    s3.on(HeadObjectCommand).rejects(accessDenied());
    s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: KEY, MaxKeys: 1 }).resolves({
      Contents: [{ Key: `${KEY}.result.json` }],
    });
    const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }));

    // Then the object is reported missing, as a 404 would be
    await expect(store.get(BUCKET, KEY)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.head(BUCKET, KEY)).resolves.toBeUndefined();
    await expect(readTextIfExists(store, BUCKET, KEY)).resolves.toBeUndefined();
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(3);
  });

  it('rethrows the 403 when the key exists, or when the listing is refused too', async () => {
    const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }));
    s3.on(GetObjectCommand).rejects(accessDenied());
    s3.on(HeadObjectCommand).rejects(accessDenied());

    // Given the key is listed: the object is there and the read is really denied
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: KEY }] });
    await expect(store.get(BUCKET, KEY)).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(store.head(BUCKET, KEY)).rejects.toMatchObject({ name: 'AccessDenied' });

    // Given the listing is denied as well (a key outside the role's prefixes)
    s3.on(ListObjectsV2Command).rejects(accessDenied());
    await expect(store.get(BUCKET, KEY)).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(readTextIfExists(store, BUCKET, KEY)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('does not list for other errors', async () => {
    const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }));
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Slow Down' }),
    );
    await expect(store.get(BUCKET, KEY)).rejects.toMatchObject({ name: 'SlowDown' });
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });
});
