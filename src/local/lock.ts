import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SdlfError } from '../core/errors.js';

/** File that marks a local run in progress in `.sdlf/local/<env>/`. */
export const LOCK_FILE = '.lock';

/** Rounds of take-over a taker tries before it reports the lock as contended. */
const ATTEMPTS = 10;

/**
 * Takes the lock of a local environment folder, so two `sdlf run --local` never write the same local lake and
 * metadata files at once. The lock file appears whole: the pid is written to a temporary file first, which is then
 * hard-linked to the lock's name, which fails when the lock exists (so of many concurrent takers exactly one wins,
 * and nobody ever reads an empty lock). A lock whose process no longer exists is stale and is taken over, moved
 * aside by one rename so that only one taker removes it. Returns the release function; throws an
 * {@link SdlfError} naming the other process while it runs (this process included: the lock is not re-entrant).
 */
export async function acquireLocalLock(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  // Beside the folder, not in it: a run that holds the lock empties the folder, and the link needs one file system.
  const temp = join(dirname(dir), `${LOCK_FILE}-${process.pid}-${randomUUID()}`);
  await writeFile(temp, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await link(temp, file);
        return async () => {
          await rm(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(file);
      if (holder === 'gone') continue;
      if (holder !== undefined && isAlive(holder)) throw lockedError(dir, file, holder);
      // Stale (its process is gone, or an unreadable lock of an older sdlf): one rename moves it aside.
      const aside = join(dirname(dir), `${LOCK_FILE}-stale-${randomUUID()}`);
      try {
        await rename(file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const moved = await readHolder(aside);
      // Another taker replaced the stale lock between our read and our rename: give it back its lock.
      if (typeof moved === 'number' && moved !== holder && isAlive(moved)) await link(aside, file).catch(() => undefined);
      await rm(aside, { force: true });
    }
  } finally {
    await rm(temp, { force: true });
  }
  throw new SdlfError(`Could not take the lock ${file}: other local runs keep taking it.`, {
    code: 'LOCAL_RUN_IN_PROGRESS',
    suggestions: ['Wait for the other "sdlf run --local" of this environment to finish, then run it again.'],
  });
}

/** The pid in a lock file; undefined when it holds none; `gone` when the file does not exist. */
async function readHolder(file: string): Promise<number | undefined | 'gone'> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
}

function lockedError(dir: string, file: string, holder: number): SdlfError {
  return new SdlfError(`Another local run (process ${holder}) is using ${dir}.`, {
    code: 'LOCAL_RUN_IN_PROGRESS',
    suggestions: [`Wait for it to finish, or stop process ${holder}; remove ${file} if that process is gone.`],
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
