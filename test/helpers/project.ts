import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Creates an empty temporary folder. */
export function tempDir(prefix = 'sdlf-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Copies a fixture from test/fixtures into a fresh temporary folder and returns its path. */
export function copyFixture(name: string): string {
  const dir = tempDir();
  cpSync(join(repoRoot, 'test', 'fixtures', name), dir, { recursive: true });
  return dir;
}

/** Writes JSON files into a folder: `{ 'ddk.json': {...} }`. */
export function writeJsonFiles(dir: string, files: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
}

/** Returns every file under a folder with its contents, to prove that a failed command changed nothing. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current)) {
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/** A minimal valid ddk.json. */
export function ddkJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    environments: {
      cicd: { account: '111111111111', region: 'us-east-1' },
      dev: { account: '222222222222', region: 'us-east-1', resource_prefix: 'ddk' },
      ...overrides,
    },
  };
}
