import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The project's environment file, in the seed's format; the folder that has it is the project's root. */
export const DDK_FILE = 'ddk.json';

/**
 * The project a command run in `start` acts on, found as git finds its repository: `start` itself or the nearest
 * folder above it that has a `ddk.json`. Undefined when no folder up to the file system's root has one.
 */
export function findProjectRoot(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, DDK_FILE))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
