import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  copyFileAtomically,
  listTree,
  publishDirectory,
  replaceFile,
  replaceFiles,
  swapDirectory,
  TEMP_SUFFIX,
} from '../../src/core/atomic.js';

const temp = () => mkdtempSync(join(tmpdir(), 'sdlf-atomic-'));

/** A folder holding the given files. */
function folder(files: Record<string, string>): string {
  const dir = temp();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('atomic writes', () => {
  it('replaces a file, from text, bytes or a stream, and leaves no temporary file beside it', async () => {
    const dir = temp();
    const target = join(dir, 'a', 'file.json');
    await replaceFile(target, 'one');
    await replaceFile(target, new TextEncoder().encode('two'));
    expect(readFileSync(target, 'utf8')).toBe('two');
    await replaceFile(
      target,
      (async function* () {
        yield new TextEncoder().encode('thr');
        yield new TextEncoder().encode('ee');
      })(),
    );
    expect(readFileSync(target, 'utf8')).toBe('three');
    expect(readdirSync(join(dir, 'a'))).toEqual(['file.json']);
  });

  it('keeps the old file and no temporary file when the body fails half way', async () => {
    const dir = temp();
    const target = join(dir, 'file.txt');
    await replaceFile(target, 'old');
    const failing = (async function* () {
      yield new TextEncoder().encode('half');
      throw new Error('disk gone');
    })();
    await expect(replaceFile(target, failing)).rejects.toThrow('disk gone');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((name) => name.endsWith(TEMP_SUFFIX))).toEqual([]);
  });

  it('writes several files together and copies one atomically', async () => {
    const dir = temp();
    await replaceFiles([
      { target: join(dir, 'x.txt'), body: 'x' },
      { target: join(dir, 'y', 'z.txt'), body: 'z' },
    ]);
    await copyFileAtomically(join(dir, 'x.txt'), join(dir, 'copy.txt'));
    expect((await listTree(dir)).map((e) => e.relativePath).sort()).toEqual(['copy.txt', 'x.txt', 'y/z.txt']);
  });

  it('swaps a folder in, over an old one or into an empty place, and removes the old one', async () => {
    const parent = temp();
    const target = join(parent, 'cdk.out');
    await swapDirectory(folder({ 'a.json': 'first' }), target);
    expect(readFileSync(join(target, 'a.json'), 'utf8')).toBe('first');
    const staging = folder({ 'b.json': 'second' });
    await swapDirectory(staging, target);
    expect(readdirSync(target)).toEqual(['b.json']);
    expect(existsSync(staging)).toBe(false);
    expect(existsSync(`${staging}.old`)).toBe(false);
  });

  it('publishes a content-addressed folder once: a later copy is dropped while the first one is complete', async () => {
    const parent = temp();
    const target = join(parent, 'bundle');
    await publishDirectory(folder({ 'index.mjs': 'first' }), target, () => existsSync(join(target, 'index.mjs')));
    const late = folder({ 'index.mjs': 'second', 'more.mjs': 'x' });
    await publishDirectory(late, target, () => existsSync(join(target, 'index.mjs')));
    expect(readFileSync(join(target, 'index.mjs'), 'utf8')).toBe('first');
    expect(existsSync(late)).toBe(false);
    // A failed rename with no complete folder in place is an error
    const broken = folder({ 'index.mjs': 'x' });
    await expect(publishDirectory(broken, target, () => false)).rejects.toThrow();
  });
});
