import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';

describe('sdlf trigger', () => {
  const roots: string[] = [];
  beforeAll(() => ensureBuilt());
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  function project(datasets: Array<Record<string, unknown>>): string {
    const root = tempDir();
    roots.push(root);
    writeJsonFiles(root, { 'ddk.json': ddkJson(), 'parameters.json': { dev: datasets } });
    return root;
  }

  it('exits 2 for a dataset of a pipeline without stage B, naming the pipeline, with no AWS call', async () => {
    const root = project([{ team: 'sales', pipeline: 'custom', dataset: 'orders' }]);
    const run = await sdlf(['trigger', '--team', 'sales', '--dataset', 'orders', '--path', root], {
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('sales/orders uses the pipeline "custom", which has no stage B');
  });

  it('exits 2 for an unregistered dataset, naming it and the file', async () => {
    const root = project([{ team: 'sales', dataset: 'orders' }]);
    const run = await sdlf(['trigger', '--team', 'sales', '--dataset', 'order', '--path', root]);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('Dataset "sales/order" is not registered for environment "dev"');
    expect(oneLine(run.stderr)).toContain('sales/orders');
  });

  it('exits 2 for a --timeout that is not a number of minutes', async () => {
    const root = project([{ team: 'sales', dataset: 'orders' }]);
    const run = await sdlf(['trigger', '--team', 'sales', '--dataset', 'orders', '--wait', '--timeout', 'soon', '--path', root]);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('--timeout "soon" is not a number of minutes above 0.');
  });
});
