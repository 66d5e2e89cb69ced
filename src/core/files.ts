import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { listTree, replaceFiles } from './atomic.js';
import { SdlfError } from './errors.js';
import type { Io } from './io.js';

/** One file a command wants to write. */
export interface PlannedFile {
  /** Path relative to the plan's root, with `/` separators. */
  readonly path: string;
  readonly contents: string | Uint8Array;
  /** Overwrites an existing file with different contents without `--force` (for files the command owns, such as
   * `parameters.json` when registering a dataset). @default false */
  readonly update?: boolean;
}

/** The files a command wants to write under one root. */
export interface FilePlan {
  readonly root: string;
  readonly files: readonly PlannedFile[];
}

/** What {@link writeFiles} did, or would do, to one path. */
export type FileAction = 'create' | 'overwrite' | 'update' | 'identical';

/** One line of a {@link writeFiles} result. */
export interface FileChange {
  readonly path: string;
  readonly action: FileAction;
}

/** Options of {@link writeFiles}. */
export interface WriteFilesOptions {
  /** Reports the plan and writes nothing. @default false */
  readonly dryRun?: boolean;
  /** Overwrites existing files whose contents differ. @default false */
  readonly force?: boolean;
}

/**
 * Writes a plan of files all-or-nothing: every path is checked first (an existing, different file without
 * `force` or `update` is an error listing all such paths), then the files are written with `replaceFiles`
 * (temporary siblings, renamed into place once all are written). Prints `create` / `overwrite` / `update` / `identical` per path through `io`.
 */
export async function writeFiles(plan: FilePlan, options: WriteFilesOptions, io: Io): Promise<FileChange[]> {
  const root = resolve(plan.root);
  const changes: FileChange[] = [];
  const conflicts: string[] = [];
  for (const file of plan.files) {
    const target = resolve(root, file.path);
    if (target !== root && !target.startsWith(root + sep)) {
      throw new SdlfError(`Refusing to write "${file.path}": it is outside ${root}.`, {
        code: 'PATH_OUTSIDE_PROJECT',
        suggestions: ['Use a name without "..", "/" or "\\".'],
      });
    }
    const existing = await readFile(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      // A folder where the file goes, or a file where one of its folders goes.
      if (error.code === 'EISDIR' || error.code === 'ENOTDIR') return null;
      throw error;
    });
    if (existing === null) {
      throw new SdlfError(
        `Cannot write "${file.path}" in ${root}: a file or folder of that name is in the way. Nothing was written.`,
        { code: 'PATH_CONFLICT', suggestions: ['Move or rename what is in the way, or choose another name.'] },
      );
    }
    const next = typeof file.contents === 'string' ? Buffer.from(file.contents) : Buffer.from(file.contents);
    if (existing === undefined) changes.push({ path: file.path, action: 'create' });
    else if (existing.equals(next)) changes.push({ path: file.path, action: 'identical' });
    else if (file.update) changes.push({ path: file.path, action: 'update' });
    else if (options.force) changes.push({ path: file.path, action: 'overwrite' });
    else conflicts.push(file.path);
  }
  if (conflicts.length > 0) {
    throw new SdlfError(
      `Refusing to overwrite ${conflicts.length} existing file(s) in ${root}: ${conflicts.join(', ')}. Nothing was written.`,
      { code: 'FILE_EXISTS', suggestions: ['Re-run with --force to overwrite them, or choose another name.'] },
    );
  }
  for (const change of changes) io.info(`${options.dryRun ? '(dry run) ' : ''}${change.action.padEnd(9)} ${change.path}`);
  if (options.dryRun) return changes;

  const pending = plan.files.filter((_, index) => changes[index]?.action !== 'identical');
  await replaceFiles(pending.map((file) => ({ target: join(root, file.path), body: file.contents })));
  return changes;
}

/** Renders a path relative to `from` for messages, with `/` separators. */
export function displayPath(path: string, from: string): string {
  const rel = relative(from, path);
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

/** Lists the data files under a folder, recursively and sorted; hidden files (`.gitkeep`) and folders are skipped. */
export async function listDataFiles(dir: string): Promise<string[]> {
  const entries = await listTree(dir);
  const visible = (relativePath: string) => !relativePath.split('/').some((segment) => segment.startsWith('.'));
  return entries
    .filter((entry) => entry.isFile && visible(entry.relativePath))
    .map((entry) => entry.path)
    .sort();
}
