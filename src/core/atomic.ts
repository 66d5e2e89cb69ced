import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream } from 'node:fs';
import { constants, copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * The one way sdlf writes a file: to a temporary sibling, renamed over the target, so readers see the old file or
 * the new one, never a part; the same for a folder written beside its target. Also the one recursive listing of a
 * folder.
 */

/** Suffix of the temporary files {@link replaceFile} writes; listings skip them. */
export const TEMP_SUFFIX = '.sdlf-tmp';

/** What {@link replaceFile} wrote. */
export interface ReplacedFile {
  /** Bytes written. */
  readonly size: number;
  /** Hex MD5 of the bytes, as S3 reports the ETag of a single-part upload. */
  readonly md5: string;
}

/** What a file's contents may be given as: text, bytes, or a stream of bytes. */
export type FileBody = string | Uint8Array | AsyncIterable<Uint8Array>;

/** A file written to its temporary sibling by {@link stageFile}, not yet in place. */
export interface StagedFile extends ReplacedFile {
  readonly target: string;
  readonly temp: string;
}

/**
 * Replaces a file atomically: the body is streamed to a temporary sibling (hashing it on the way) and renamed
 * over the target. When the body fails, the temporary file is removed and the target is left as it was.
 */
export async function replaceFile(target: string, body: FileBody): Promise<ReplacedFile> {
  const staged = await stageFile(target, body);
  await commitFile(staged);
  return { size: staged.size, md5: staged.md5 };
}

/**
 * Replaces several files all-or-nothing as far as a filesystem allows: every body is written to its temporary
 * sibling first (all of them removed when one fails, leaving every target as it was), then each is renamed
 * into place, in order.
 */
export async function replaceFiles(
  files: ReadonlyArray<{ readonly target: string; readonly body: FileBody }>,
): Promise<ReplacedFile[]> {
  const staged: StagedFile[] = [];
  try {
    for (const file of files) staged.push(await stageFile(file.target, file.body));
  } catch (error) {
    await Promise.all(staged.map(discardFile));
    throw error;
  }
  for (const [index, file] of staged.entries()) {
    try {
      await commitFile(file);
    } catch (error) {
      await Promise.all(staged.slice(index + 1).map(discardFile));
      throw error;
    }
  }
  return staged.map(({ size, md5 }) => ({ size, md5 }));
}

/** Writes `body` to a temporary sibling of `target` (creating its folder), hashing it; removes it if the body fails. */
export async function stageFile(target: string, body: FileBody): Promise<StagedFile> {
  // A stream destroyed before it is read would emit an unobserved 'error'; the read below reports it instead.
  if (body instanceof EventEmitter) body.on('error', () => undefined);
  await mkdir(dirname(target), { recursive: true });
  const temp = tempSiblingOf(target);
  const hash = createHash('md5');
  let size = 0;
  const source =
    typeof body === 'string' || body instanceof Uint8Array ? [typeof body === 'string' ? Buffer.from(body) : body] : body;
  async function* counted() {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  try {
    await pipeline(Readable.from(counted()), createWriteStream(temp));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { target, temp, size, md5: hash.digest('hex') };
}

/** Renames a staged file over its target; removes the temporary file when that fails. */
export async function commitFile(staged: StagedFile): Promise<void> {
  await intoPlace(staged.temp, staged.target, async () => undefined);
}

/** Removes a staged file that will not be put in place. */
export async function discardFile(staged: StagedFile): Promise<void> {
  await rm(staged.temp, { force: true });
}

/**
 * Copies a file over another atomically, as {@link replaceFile} writes one: the kernel copies (or clones, where
 * the filesystem can) to a temporary sibling, which is renamed over the target.
 */
export async function copyFileAtomically(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempSiblingOf(target);
  await intoPlace(temp, target, () => copyFile(source, temp, constants.COPYFILE_FICLONE));
}

/**
 * Puts the folder `staging`, written completely, in the place of `target`: the old folder (if any) is moved aside,
 * the new one renamed in, then the old one removed. Readers see the old folder or the new one, never a mix.
 */
export async function swapDirectory(staging: string, target: string): Promise<void> {
  const old = `${staging}.old`;
  const replacing = await rename(target, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  await rename(staging, target);
  if (replacing) await rm(old, { recursive: true, force: true });
}

/**
 * Publishes the folder `staging` as `target` when no complete `target` exists yet (content-addressed folders such
 * as bundles: whoever renames first wins, and a later writer's copy is removed). Throws when the rename failed and
 * `target` is still not complete.
 */
export async function publishDirectory(staging: string, target: string, isComplete: () => boolean): Promise<void> {
  await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
    await rm(staging, { recursive: true, force: true });
    if (!isComplete()) throw error;
  });
}

/** A short sibling name of its own: a target whose name is already the 255 bytes a file name may have still works. */
function tempSiblingOf(target: string): string {
  return join(dirname(target), `.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

/** Writes `temp` with `write`, then renames it over `target`; removes `temp` when either fails. */
async function intoPlace(temp: string, target: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** One file (or other non-folder entry) found by {@link listTree}. */
export interface TreeEntry {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the listed folder, with `/` separators. */
  readonly relativePath: string;
  readonly isFile: boolean;
}

/**
 * Lists what is under a folder, recursively, folders left out, unsorted (Node's recursive `readdir`, which
 * follows no symbolic link). Rejects as `readdir` does, e.g. with ENOENT for a missing folder.
 */
export async function listTree(dir: string): Promise<TreeEntry[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, relativePath: relative(dir, path).split(sep).join('/'), isFile: entry.isFile() };
    });
}
