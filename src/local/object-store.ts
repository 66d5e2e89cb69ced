import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type PutObjectOptions,
} from '../runtime/core/ports.js';
import { copyFileAtomically, replaceFile, TEMP_SUFFIX } from './atomic.js';
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
  const known = new Map<string, { size: number; etag: string; mtimeMs: number }>();

  const bucketOf = (bucket: string): LocalBucket => {
    const found = options.buckets[bucket];
    if (!found) throw new Error(`Unknown local bucket "${bucket}"; known: ${Object.keys(options.buckets).join(', ')}.`);
    return found;
  };
  const pathOf = (bucket: string, key: string): string => {
    const dir = resolve(bucketOf(bucket).dir);
    const path = resolve(dir, key);
    if (!path.startsWith(dir + sep) || key.endsWith('/')) throw new Error(`Key "${key}" is not a valid object key of ${bucket}.`);
    return path;
  };
  const infoOf = async (bucket: string, key: string): Promise<ObjectInfo | undefined> => {
    const path = pathOf(bucket, key);
    const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!stats?.isFile()) return undefined;
    let cached = known.get(path);
    if (!cached || cached.mtimeMs !== stats.mtimeMs || cached.size !== stats.size) {
      cached = { size: stats.size, etag: await md5Of(path), mtimeMs: stats.mtimeMs };
      known.set(path, cached);
    }
    const version = bucketOf(bucket).versioned ? versionOf(cached.etag) : undefined;
    return {
      bucket,
      key,
      size: stats.size,
      etag: cached.etag,
      ...(version ? { versionId: version } : {}),
      lastModified: stats.mtime.toISOString(),
    };
  };

  const describeStored = async (bucket: string, key: string, path: string, size: number, md5: string): Promise<ObjectInfo> => {
    const stats = await stat(path);
    const version = bucketOf(bucket).versioned ? versionOf(md5) : undefined;
    known.set(path, { size, etag: md5, mtimeMs: stats.mtimeMs });
    return {
      bucket,
      key,
      size,
      etag: md5,
      ...(version ? { versionId: version } : {}),
      lastModified: stats.mtime.toISOString(),
    };
  };

  return {
    pathOf,
    folderOf: (bucket, prefix) => dirname(pathOf(bucket, `${prefix.replace(/\/*$/, '')}/_`)),
    async get(bucket, key, options = {}) {
      const path = pathOf(bucket, key);
      const stats = await stat(path).catch(() => undefined);
      if (!stats?.isFile()) throw new ObjectNotFoundError(bucket, key);
      // The local lake keeps the latest version of a key only: an older one is gone, as if deleted on S3.
      if (options.versionId && bucketOf(bucket).versioned) {
        const info = await infoOf(bucket, key);
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
    },
    async put(bucket: string, key: string, body: ObjectBody, _options?: PutObjectOptions) {
      const path = pathOf(bucket, key);
      const written = await replaceFile(path, body);
      return describeStored(bucket, key, path, written.size, written.md5);
    },
    async putFile(bucket, key, file, hashes) {
      const path = pathOf(bucket, key);
      const source = await stat(file);
      const cached = hashes?.get(file, source);
      const [hashed] = await Promise.all([cached ?? md5Of(file), copyFileAtomically(file, path)]);
      const after = await stat(file);
      if (after.mtimeMs === source.mtimeMs && after.ctimeMs === source.ctimeMs && after.size === source.size) {
        if (!cached) hashes?.set(file, source, hashed);
        return describeStored(bucket, key, path, source.size, hashed);
      }
      // The file changed while it was copied: describe the copy by its own bytes, and cache nothing.
      const copied = await stat(path);
      return describeStored(bucket, key, path, copied.size, await md5Of(path));
    },
    async *list(bucket, prefix) {
      const dir = resolve(bucketOf(bucket).dir);
      const keys = (await walk(dir)).map((file) => relative(dir, file).split(sep).join('/')).filter((k) => k.startsWith(prefix));
      keys.sort();
      for (const key of keys) {
        const info = await infoOf(bucket, key);
        if (info) yield info;
      }
    },
    head: infoOf,
    async delete(bucket, key) {
      const path = pathOf(bucket, key);
      known.delete(path);
      await rm(path, { force: true });
    },
  };
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (entry.isFile() && !entry.name.endsWith(TEMP_SUFFIX)) files.push(path);
  }
  return files;
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
