import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLightTransform } from '../../src/local/light-transform.js';
import type { RawInput } from '../../src/runtime/transform/types.js';
import { tempDir } from '../helpers/project.js';

const context = { team: 't', dataset: 'd', env: 'dev', executionId: 'e' };

function input(text: string): RawInput {
  return {
    bucket: 'raw',
    key: 't/d/people.json',
    body: async function* () {
      yield Buffer.from(text);
    },
  };
}

async function tables(transform: Awaited<ReturnType<typeof loadLightTransform>>, text: string): Promise<string[]> {
  const out: string[] = [];
  for await (const output of transform(input(text), context)) out.push(output.table);
  return out;
}

function project(helper: string): { root: string; outDir: string } {
  const root = tempDir();
  mkdirSync(join(root, 'transforms', 'light'), { recursive: true });
  writeFileSync(join(root, 'transforms', 'light', 'helper.ts'), helper);
  writeFileSync(
    join(root, 'transforms', 'light', 'mine.ts'),
    `import { defineLightTransform, readRecords } from 'sdlf/transform';
import { tableFor } from './helper.js';
export default defineLightTransform(async function* (input) {
  for await (const record of readRecords(input)) yield { table: tableFor(record), record };
});
`,
  );
  return { root, outDir: join(root, '.sdlf', 'local', 'dev', 'build') };
}

describe('loadLightTransform', () => {
  it('bundles a transform that imports sdlf/transform and a local module, without node_modules in the project', async () => {
    const { root, outDir } = project("export const tableFor = (r: Record<string, unknown>) => 't_' + String(r.kind);\n");
    const transform = await loadLightTransform({ projectRoot: root, transform: 'mine', outDir });
    expect(await tables(transform, '[{"kind": "a"}, {"kind": "b"}]')).toEqual(['t_a', 't_b']);
  });

  it('reuses the bundle while no input changed, and rebuilds when an imported module changes', async () => {
    const { root, outDir } = project("export const tableFor = () => 'first';\n");
    await loadLightTransform({ projectRoot: root, transform: 'mine', outDir });
    const cache = JSON.parse(readFileSync(join(outDir, 'light-mine.inputs.json'), 'utf8')) as { inputs: Record<string, string> };
    expect(Object.keys(cache.inputs)).toEqual(
      expect.arrayContaining([join(root, 'transforms', 'light', 'mine.ts'), join(root, 'transforms', 'light', 'helper.ts')]),
    );
    // Unchanged: the same single bundle is imported again
    await loadLightTransform({ projectRoot: root, transform: 'mine', outDir });
    expect(readdirSync(outDir).filter((f) => f.endsWith('.mjs'))).toHaveLength(1);
    // Changed helper: a new bundle with the new behaviour
    writeFileSync(join(root, 'transforms', 'light', 'helper.ts'), "export const tableFor = () => 'second';\n");
    const changed = await loadLightTransform({ projectRoot: root, transform: 'mine', outDir });
    expect(await tables(changed, '{"kind": "x"}\n')).toEqual(['second']);
    expect(readdirSync(outDir).filter((f) => f.endsWith('.mjs'))).toHaveLength(2);
  });

  it('rejects a missing transform file with MISSING_TRANSFORM', async () => {
    const { root, outDir } = project("export const tableFor = () => 'x';\n");
    await expect(loadLightTransform({ projectRoot: root, transform: 'absent', outDir })).rejects.toMatchObject({
      code: 'MISSING_TRANSFORM',
      message: expect.stringContaining('transforms/light/absent.ts'),
    });
  });

  it('rejects a transform without a default export function with INVALID_TRANSFORM', async () => {
    const { root, outDir } = project("export const tableFor = () => 'x';\n");
    writeFileSync(join(root, 'transforms', 'light', 'nodefault.ts'), 'export const value = 1;\n');
    await expect(loadLightTransform({ projectRoot: root, transform: 'nodefault', outDir })).rejects.toMatchObject({
      code: 'INVALID_TRANSFORM',
    });
  });
});
