import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/project.js';

/** A function whose body is `statements` lines long. */
const functionOf = (statements: number) =>
  `export function f(): number {\n  let n = 0;\n${Array.from({ length: statements }, (_, i) => `  n += ${i};`).join('\n')}\n  return n;\n}\n`;

/** Lints `source` as the file `path` of a folder holding the repository's biome.json and nothing else. */
async function lintAs(path: string, source: string) {
  const dir = tempDir('sdlf-lint-');
  cpSync(join(repoRoot, 'biome.json'), join(dir, 'biome.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), source);
  const result = await execa(join(repoRoot, 'node_modules', '.bin', 'biome'), ['lint', path], {
    cwd: dir,
    reject: false,
    all: true,
  });
  return { exitCode: result.exitCode, output: String(result.all) };
}

describe('the function length rule of npm run lint', () => {
  it('refuses a function of src/ over 80 non-blank lines, and accepts one of 78', async () => {
    const long = await lintAs('src/core/example.ts', functionOf(80));
    expect(long.exitCode).not.toBe(0);
    expect(long.output).toContain('lint/complexity/noExcessiveLinesPerFunction');
    const short = await lintAs('src/core/example.ts', functionOf(76));
    expect(short.output).not.toContain('noExcessiveLinesPerFunction');
    expect(short.exitCode).toBe(0);
  });

  it('leaves tests and scripts to their own judgement', async () => {
    const inTests = await lintAs('test/core/example.test.ts', functionOf(120));
    expect(inTests.output).not.toContain('noExcessiveLinesPerFunction');
  });
});
