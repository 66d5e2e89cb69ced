import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { locateJsonPath, locateProblems, pathSegments } from '../../src/config/locate.js';
import { formatProblem, isSdlfError } from '../../src/core/errors.js';

const DDK = `{
  "environments": {
    "cicd": { "account": "111111111111", "region": "us-east-1" },
    "dev": {
      "account": "111111111111",
      "region": "us-east-1",
      "kms_strategy": "bogus"
    }
  }
}
`;

describe('locating a problem in its JSON file', () => {
  it('splits the paths the loaders write into keys and indexes', () => {
    expect(pathSegments('environments.dev.account')).toEqual(['environments', 'dev', 'account']);
    expect(pathSegments('dev[2].min_items_process')).toEqual(['dev', 2, 'min_items_process']);
    expect(pathSegments('dev[0]')).toEqual(['dev', 0]);
  });

  it('points at the member of a key, at an array element, and at the enclosing object of a missing key', () => {
    expect(locateJsonPath(DDK, 'environments.dev.kms_strategy')).toEqual({ line: 7, column: 7 });
    expect(locateJsonPath(DDK, 'environments.dev.notification_email')).toEqual({ line: 4, column: 5 });
    expect(locateJsonPath('{\n  "dev": [\n    { "team": "a" },\n    { "team": "b" }\n  ]\n}\n', 'dev[1].team')).toEqual({
      line: 4,
      column: 7,
    });
    expect(locateJsonPath('not json', 'dev[0]')).toBeUndefined();
  });

  it('adds the line and column to problems of JSON files, reading each file once, and formats them as file:line:column', () => {
    const root = mkdtempSync(join(tmpdir(), 'sdlf-locate-'));
    writeFileSync(join(root, 'ddk.json'), `\uFEFF${DDK}`);
    const [located, elsewhere, noPath] = locateProblems(root, [
      { code: 'X', message: 'm', file: 'ddk.json', path: 'environments.dev.kms_strategy' },
      { code: 'X', message: 'm', file: 'transforms/light/x.ts', path: 'a' },
      { code: 'X', message: 'm', file: 'ddk.json' },
    ]);
    expect(located).toMatchObject({ line: 7, column: 7 });
    expect(formatProblem(located ?? { code: '', message: '' })).toBe('ddk.json:7:7 (environments.dev.kms_strategy): m');
    expect(elsewhere?.line).toBeUndefined();
    expect(noPath?.line).toBeUndefined();
  });

  it('names the line of each problem loadProject finds', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sdlf-locate-'));
    writeFileSync(join(root, 'ddk.json'), DDK);
    writeFileSync(join(root, 'parameters.json'), '{\n  "dev": []\n}\n');
    const error = await loadProject(root).catch((e: unknown) => e);
    if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('ddk.json:7:7 (environments.dev.kms_strategy): "bogus" is not valid here');
  });
});
