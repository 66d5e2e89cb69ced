import { createReadStream, existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { findDataset } from '../aws/datasets.js';
import { isAwsError } from '../aws/errors.js';
import { type AwsCommandOptions, openSession } from '../aws/session.js';
import { namingOf, requireDeploymentEnvironment } from '../aws/target.js';
import { Naming } from '../config/naming.js';
import { projectPaths } from '../config/paths.js';
import { SdlfError } from '../core/errors.js';
import { displayPath } from '../core/files.js';
import type { Io } from '../core/io.js';

/** Options of {@link uploadData}. */
export interface UploadDataOptions extends AwsCommandOptions {
  readonly team: string;
  readonly dataset: string;
  /** Files or folders to upload; @default `data/<team>/<dataset>/` of the project */
  readonly files?: readonly string[];
}

/** One uploaded object. */
export interface UploadedObject {
  /** The local file, relative to the project when inside it. */
  readonly file: string;
  readonly key: string;
  readonly size: number;
}

/** What {@link uploadData} did. */
export interface UploadDataResult {
  readonly env: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly kmsKey: string;
  readonly objects: readonly UploadedObject[];
}

/**
 * Uploads files into the environment's raw bucket under `{team}/{dataset}/`, encrypted with the environment's data
 * key (SSE-KMS), which starts the dataset's pipeline. Folders are uploaded recursively, keeping their layout.
 */
export async function uploadData(options: UploadDataOptions, io: Io): Promise<UploadDataResult> {
  const { project, target, clients, identity } = await openSession(options, io);
  const environment = requireDeploymentEnvironment(target, 'upload');
  findDataset(project, environment.id, options.team, options.dataset);
  const naming = namingOf(target, environment);
  const inputs = options.files?.length
    ? options.files.map((f) => resolve(project.root, f))
    : [join(project.root, projectPaths.sampleData(options.team, options.dataset))];
  const files = await collectFiles(inputs, project.root);
  if (files.length === 0) {
    throw new SdlfError(`There is nothing to upload in ${inputs.map((i) => displayPath(i, project.root)).join(', ')}.`, {
      code: 'NO_FILES',
      suggestions: [`Put sample files in ${projectPaths.sampleData(options.team, options.dataset)}/ or pass files to upload.`],
    });
  }

  const bucket = naming.bucket('raw');
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!isAwsError(error, 'NotFound', 'NoSuchBucket', '404')) throw error;
    throw new SdlfError(`The raw bucket ${bucket} of environment "${environment.id}" does not exist.`, {
      code: 'NOT_DEPLOYED',
      suggestions: [`Deploy the environment first: "sdlf deploy --env ${environment.id}".`],
    });
  }
  const partition = identity.arn.split(':')[1] ?? 'aws';
  const kmsKey = `arn:${partition}:kms:${target.region}:${target.account}:${naming.kmsAlias('data')}`;
  const prefix = Naming.datasetPrefix(options.team, options.dataset);
  const objects: UploadedObject[] = [];
  for (const file of files) {
    const key = `${prefix}${file.key}`;
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: createReadStream(file.path),
        ContentLength: file.size,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: kmsKey,
      }),
    );
    io.info(`uploaded ${file.display} → s3://${bucket}/${key}`);
    objects.push({ file: file.display, key, size: file.size });
  }
  return { env: environment.id, bucket, prefix, kmsKey, objects };
}

interface LocalFile {
  readonly path: string;
  /** Key below the dataset prefix, with `/` separators. */
  readonly key: string;
  readonly size: number;
  readonly display: string;
}

/** Expands files and folders into the files to upload; fails before any upload when one is missing. */
async function collectFiles(inputs: readonly string[], root: string): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) {
      throw new SdlfError(`${displayPath(input, root)} does not exist; nothing was uploaded.`, {
        code: 'FILE_NOT_FOUND',
        suggestions: ['Check the path (relative paths are relative to the project folder given by --path).'],
      });
    }
    const info = await stat(input);
    if (info.isFile()) {
      files.push({ path: input, key: basename(input), size: info.size, display: displayPath(input, root) });
      continue;
    }
    const entries = await readdir(input, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const path = join(entry.parentPath, entry.name);
      files.push({
        path,
        key: relative(input, path).split(sep).join('/'),
        size: (await stat(path)).size,
        display: displayPath(path, root),
      });
    }
  }
  return files.sort((a, b) => a.key.localeCompare(b.key));
}
