/**
 * The Amazon S3 SDK code of the runtime: the client and what `S3ObjectStore` sends. Imported statically by a
 * handler that needs S3 on every invocation, dynamically by one that needs it on some (`lazyClient`).
 */
export {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
export { Upload } from '@aws-sdk/lib-storage';
