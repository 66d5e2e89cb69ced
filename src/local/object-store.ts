import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { copyFileAtomically, listTree, replaceFile, TEMP_SUFFIX } from '../core/atomic.js';
import {
  type GetObjectOptions,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type PutObjectOptions,
} from '../runtime/core/ports.js';
import type { FileHashCache } from './hash-cache.js';

/** One bucket of a {@link LocalObjectStore}: the folder that holds it, and whether it keeps versions. */
export interface LocalBucket {
  /** Folder of the bucket's objects, absolute. */
  readonly dir: string;
  /** Gives every put a new version id, like an S3 bucket with versioning on. @default false */
  readonly versioned?: boolean;
}

/** Options of {@link createLocalObjectStore}. */
export interface LocalObjectStoreOptions {
  /** Buckets by (physical) name. */
  readonly buckets: Readonly<Record<string, LocalBucket>>;
}

/** An {@link ObjectStore} on the local filesystem, plus the folder each bucket lives in. */
export interface LocalObjectStore extends ObjectStore {
  /** Absolute path of an object's file (which may not exist). */
  pathOf(bucket: string, key: string): string;
  /** Absolute path of the folder holding the objects under a prefix (`team/dataset/`). */
  folderOf(bucket: string, prefix: string): string;
  /**
   * Puts a file as an object by copying it (no stream through the process); its MD5 comes from `hashes` when
   * the file is unchanged since it was last hashed, and is read once and kept there otherwise.
   */
  putFile(bucket: string, key: string, file: string, hashes?: FileHashCache): Promise<ObjectInfo>;
}

/**
 * Creates the object store of `sdlf run --local`: one folder per bucket, an object per file at its key. Writes
 * are atomic (temporary file + rename) and stream; ETags are the MD5 of the bytes as with single-part S3
 * uploads; a versioned bucket names each object's version after its bytes (see `versionOf`).
 */
export function createLocalObjectStore(options: LocalObjectStoreOptions): LocalObjectStore {
  return new FileObjectStore(options.buckets);
}

/** What a {@link FileObjectStore} knows of a file it hashed: its MD5, valid while size and mtime stay. */
interface KnownFile {
  readonly size: number;
  readonly etag: string;
  readonly mtimeMs: number;
}

/** The buckets of {@link createLocalObjectStore}, with the MD5 of each file it saw kept while the file is unchanged. */
class FileObjectStore implements LocalObjectStore {
  private readonly known = new Map<string, KnownFile>();

  constructor(private readonly buckets: Readonly<Record<string, LocalBucket>>) {}

  pathOf(bucket: string, key: string): string {
    const dir = resolve(this.bucketOf(bucket).dir);
    const path = resolve(dir, key);
    if (!path.startsWith(dir + sep) || key.endsWith('/')) throw new Error(`Key "${key}" is not a valid object key of ${bucket}.`);
    return path;
  }

  folderOf(bucket: string, prefix: string): string {
    return dirname(this.pathOf(bucket, `${prefix.replace(/\/*$/, '')}/_`));
  }

  async get(bucket: string, key: string, options: GetObjectOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const path = this.pathOf(bucket, key);
    const stats = await stat(path).catch(() => undefined);
    if (!stats?.isFile()) throw new ObjectNotFoundError(bucket, key);
    // The local lake keeps the latest version of a key only: an older one is gone, as if deleted on S3.
    if (options.versionId && this.bucketOf(bucket).versioned) {
      const info = await this.head(bucket, key);
      if (info?.versionId !== options.versionId) {
        throw new ObjectNotFoundError(
          bucket,
          key,
          options.versionId,
          `the file changed since; its version is now ${info?.versionId}`,
        );
      }
    }
    return createReadStream(path);
  }

  async put(bucket: string, key: string, body: ObjectBody, _options?: PutObjectOptions): Promise<ObjectInfo> {
    const path = this.pathOf(bucket, key);
    const written = await replaceFile(path, body);
    return this.describeStored(bucket, key, path, written.size, written.md5);
  }

  async putFile(bucket: string, key: string, file: string, hashes?: FileHashCache): Promise<ObjectInfo> {
    const path = this.pathOf(bucket, key);
    const source = await stat(file);
    const cached = hashes?.get(file, source);
    const [hashed] = await Promise.all([cached ?? md5Of(file), copyFileAtomically(file, path)]);
    const after = await stat(file);
    if (after.mtimeMs === source.mtimeMs && after.ctimeMs === source.ctimeMs && after.size === source.size) {
      if (!cached) hashes?.set(file, source, hashed);
      return this.describeStored(bucket, key, path, source.size, hashed);
    }
    // The file changed while it was copied: describe the copy by its own bytes, and cache nothing.
    const copied = await stat(path);
    return this.describeStored(bucket, key, path, copied.size, await md5Of(path));
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    const dir = resolve(this.bucketOf(bucket).dir);
    const keys = (await walk(dir)).map((file) => relative(dir, file).split(sep).join('/')).filter((k) => k.startsWith(prefix));
    keys.sort();
    for (const key of keys) {
      const info = await this.head(bucket, key);
      if (info) yield info;
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(bucket, key);
    const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!stats?.isFile()) return undefined;
    let cached = this.known.get(path);
    if (!cached || cached.mtimeMs !== stats.mtimeMs || cached.size !== stats.size) {
      cached = { size: stats.size, etag: await md5Of(path), mtimeMs: stats.mtimeMs };
      this.known.set(path, cached);
    }
    return this.infoOf(bucket, key, stats.size, cached.etag, stats.mtime);
  }

  async delete(bucket: string, key: string): Promise<void> {
    const path = this.pathOf(bucket, key);
    this.known.delete(path);
    await rm(path, { force: true });
  }

  private bucketOf(bucket: string): LocalBucket {
    const found = this.buckets[bucket];
    if (!found) throw new Error(`Unknown local bucket "${bucket}"; known: ${Object.keys(this.buckets).join(', ')}.`);
    return found;
  }

  /** Describes an object just written to `path`, and keeps its MD5 for later reads. */
  private async describeStored(bucket: string, key: string, path: string, size: number, md5: string): Promise<ObjectInfo> {
    const stats = await stat(path);
    this.known.set(path, { size, etag: md5, mtimeMs: stats.mtimeMs });
    return this.infoOf(bucket, key, size, md5, stats.mtime);
  }

  private infoOf(bucket: string, key: string, size: number, etag: string, modified: Date): ObjectInfo {
    const version = this.bucketOf(bucket).versioned ? versionOf(etag) : undefined;
    return {
      bucket,
      key,
      size,
      etag,
      ...(version ? { versionId: version } : {}),
      lastModified: modified.toISOString(),
    };
  }
}

/** The object files of a bucket folder, as absolute paths; none when the folder does not exist yet. */
async function walk(dir: string): Promise<string[]> {
  const entries = await listTree(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries.filter((entry) => entry.isFile && !entry.path.endsWith(TEMP_SUFFIX)).map((entry) => entry.path);
}

/**
 * Version id of an object of a versioned local bucket. A local bucket keeps one version per key, named after its
 * bytes: putting the same bytes again is the same version (so a rerun of the same input is recognised as such by
 * routing, which names executions after the object version), and new bytes are a new version.
 */
function versionOf(etag: string): string {
  return `v${etag.slice(0, 24)}`;
}

async function md5Of(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
