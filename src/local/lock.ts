import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SdlfError } from '../core/errors.js';

/** File that marks a local run in progress in `.sdlf/local/<env>/`. */
export const LOCK_FILE = '.lock';

/**
 * Takes the lock of a local environment folder, so two `sdlf run --local` never write the same local lake and
 * metadata files at once. A lock left by a process that no longer exists is taken over. Returns the release
 * function; throws an {@link SdlfError} naming the other process when it is still running.
 */
export async function acquireLocalLock(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return async () => {
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt((await readFile(file, 'utf8').catch(() => '')).trim(), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new SdlfError(`Another local run (process ${holder}) is using ${dir}.`, {
          code: 'LOCAL_RUN_IN_PROGRESS',
          suggestions: [`Wait for it to finish, or stop process ${holder}; remove ${file} if that process is gone.`],
        });
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`Could not take the lock ${file}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
