import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { acquireLocalLock, LOCK_FILE } from '../../src/local/lock.js';
import { ensureBuilt } from '../helpers/cli.js';
import { repoRoot } from '../helpers/project.js';

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'sdlf-lock-')), 'dev');

describe('acquireLocalLock', () => {
  it('lets exactly one of many concurrent takers in one process win; the others fail naming the holder', async () => {
    // Given one folder and twenty takers at once
    const dir = freshDir();
    // When they all try
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => acquireLocalLock(dir)));
    // Then one won and holds a lock with its pid; every other one was refused
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(refused).toHaveLength(19);
    for (const error of refused) {
      expect(error).toMatchObject({
        code: 'LOCAL_RUN_IN_PROGRESS',
        message: `Another local run (process ${process.pid}) is using ${dir}.`,
      });
    }
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('lets exactly one of several concurrent processes win', async () => {
    // Given the built module, and six processes that each try once and keep what they took for a while
    ensureBuilt();
    const dir = freshDir();
    const module = join(repoRoot, 'dist', 'local', 'lock.js');
    const script = `import(${JSON.stringify(module)}).then((m) => m.acquireLocalLock(${JSON.stringify(dir)})).then(
      () => { console.log('won'); setTimeout(() => {}, 1500); },
      (e) => console.log(e.code ?? e.message))`;
    // When they run at once
    const runs = await Promise.all(Array.from({ length: 6 }, () => execa('node', ['-e', script], { reject: false })));
    // Then one won and the other five saw a live holder
    expect(runs.map((r) => r.stdout).sort()).toEqual([...Array(5).fill('LOCAL_RUN_IN_PROGRESS'), 'won']);
  }, 30_000);

  it.each([
    ['whose process is gone', async () => `${(await execa('node', ['-e', '0'])).pid}\n`],
    ['that is empty (an older sdlf wrote it)', async () => ''],
  ])('takes over a lock %s', async (_, content) => {
    const dir = freshDir();
    const release = await acquireLocalLock(dir);
    await release();
    writeFileSync(join(dir, LOCK_FILE), await content());
    const again = await acquireLocalLock(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await again();
  });

  it('can be taken again once released', async () => {
    const dir = freshDir();
    await (await acquireLocalLock(dir))();
    await expect(acquireLocalLock(dir)).resolves.toBeTypeOf('function');
  });
});
