import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream } from 'node:fs';
import { constants, copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Suffix of the temporary files {@link replaceFile} writes; listings skip them. */
export const TEMP_SUFFIX = '.sdlf-tmp';

/** What {@link replaceFile} wrote. */
export interface ReplacedFile {
  /** Bytes written. */
  readonly size: number;
  /** Hex MD5 of the bytes, as S3 reports the ETag of a single-part upload. */
  readonly md5: string;
}

/**
 * Replaces a file atomically: the body is streamed to a temporary sibling (hashing it on the way) and renamed
 * over the target, so readers see the old file or the new one, never a part. When the body fails, the temporary
 * file is removed and the target is left as it was.
 *
 * The local run's object store and metadata store use it for files that emulate S3 objects and DynamoDB tables;
 * files of the user's project go through `writeFiles` instead.
 */
export async function replaceFile(target: string, body: string | Uint8Array | AsyncIterable<Uint8Array>): Promise<ReplacedFile> {
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
  await intoPlace(temp, target, () => pipeline(Readable.from(counted()), createWriteStream(temp)));
  return { size, md5: hash.digest('hex') };
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
