/**
 * MD5s of the project's input files, kept between local runs so that an unchanged input is not read twice per
 * run (once to hash, once to copy) nor hashed again on the next run. An entry holds while the file's size,
 * modification and change times and inode are the ones it was hashed at; any write to the file changes its
 * change time, so a changed file is always hashed again. The cache is a plain JSON file: one that cannot be read
 * is started afresh.
 */
import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { replaceFile } from '../core/atomic.js';

interface Entry {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly md5: string;
}

/** A cache of file MD5s by absolute path (see the module). */
export interface FileHashCache {
  /** The MD5 of the file as `stats` describe it now, when it was hashed as it is. */
  get(path: string, stats: Stats): string | undefined;
  set(path: string, stats: Stats, md5: string): void;
  /** Writes the cache when an entry changed. */
  save(): Promise<void>;
}

export async function openFileHashCache(file: string): Promise<FileHashCache> {
  let entries: Record<string, Entry> = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) entries = parsed as Record<string, Entry>;
  } catch {
    // Missing or unreadable: every input is hashed this run.
  }
  let changed = false;
  const same = (entry: Entry | undefined, stats: Stats): entry is Entry =>
    entry !== undefined &&
    entry.size === stats.size &&
    entry.mtimeMs === stats.mtimeMs &&
    entry.ctimeMs === stats.ctimeMs &&
    entry.ino === stats.ino &&
    typeof entry.md5 === 'string';
  return {
    get: (path, stats) => {
      const entry = entries[path];
      return same(entry, stats) ? entry.md5 : undefined;
    },
    set(path, stats, md5) {
      entries[path] = { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino, md5 };
      changed = true;
    },
    async save() {
      if (changed) await replaceFile(file, `${JSON.stringify(entries)}\n`);
      changed = false;
    },
  };
}
