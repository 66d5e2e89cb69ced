import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';

/**
 * The object reads sdlf's functions and jobs make: a GET (with or without a version id; a HEAD is a GET).
 * Narrower than aws-cdk-lib's `grantRead` (`s3:GetObject*`, `s3:GetBucket*`, `s3:List*`), which also reads ACLs,
 * tags and legal holds and lists every key of the bucket.
 */
const READ_OBJECT_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'] as const;

/**
 * The reads of a Glue job's file system (EMRFS), which sdlf does not write: every object read, as aws-cdk-lib
 * grants it, plus the bucket's location (`forSpark`).
 */
const SPARK_READ_ACTIONS = ['s3:GetObject*'] as const;

/**
 * Lets `grantee` read the objects under `prefix` of `bucket` and list that prefix only: `s3:ListBucket` carries an
 * `s3:prefix` condition, so a listing of another team's or dataset's keys is
 * denied. `prefix` ends with `/` (`sales/orders/`, `manifests/sales/`), so `sales/` never admits `sales-eu/`.
 *
 * Without an unconditional `s3:ListBucket`, S3 answers a GET of a missing key with 403 rather than 404;
 * `S3ObjectStore.get` tells the two apart by listing the key itself, which this grant allows. A Spark job only
 * reads keys its manifest lists (they exist), so the condition holds there too; the job's writes to the analytics
 * bucket keep a bucket-wide listing (see `DatasetResources.grantGlueData`).
 */
export function grantReadUnder(
  bucket: IBucket,
  grantee: IGrantable,
  prefix: string,
  options: { readonly forSpark?: boolean } = {},
): void {
  assertPrefix(prefix);
  const actions = options.forSpark ? SPARK_READ_ACTIONS : READ_OBJECT_ACTIONS;
  Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [bucket.arnForObjects(`${prefix}*`)] });
  if (options.forSpark) Grant.addToPrincipal({ grantee, actions: ['s3:GetBucketLocation'], resourceArns: [bucket.bucketArn] });
  Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
  });
}

function assertPrefix(prefix: string): void {
  if (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.includes('*')) {
    throw new Error(`Object grants take a key prefix that ends with "/" and holds no "*"; got "${prefix}".`);
  }
}
