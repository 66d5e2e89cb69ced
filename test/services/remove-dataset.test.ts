import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { addDataset } from '../../src/services/add-dataset.js';
import { formatRemoveDatasetSummary, removeDataset } from '../../src/services/remove-dataset.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { copyFixture, ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';

const roots: string[] = [];
const track = (root: string) => {
  roots.push(dirname(root));
  return root;
};
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});
const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');
const error = (promise: Promise<unknown>) => promise.catch((e: unknown) => e as SdlfError);

describe('removeDataset', () => {
  let freshProject: () => string;
  beforeAll(async () => {
    freshProject = await initializedProjectCopies();
  });

  it('undoes add-dataset: parameters.json byte for byte as before, and with --remove-files its own files gone', async () => {
    // Given the demo project and a dataset added to it
    const root = track(freshProject());
    const before = read(root, 'parameters.json');
    await addDataset({ root, team: 'demoteam', dataset: 'orders' }, createRecordingIo());
    expect(existsSync(join(root, 'transforms/heavy/demoteam_orders/transform.sql'))).toBe(true);
    // When it is removed with its files
    const io = createRecordingIo();
    const result = await removeDataset({ root, team: 'demoteam', dataset: 'orders', files: 'remove' }, io);
    // Then parameters.json is what it was, and only the files nothing else uses are gone
    expect(read(root, 'parameters.json')).toBe(before);
    expect(result.environments).toEqual(['dev']);
    expect(result.removed).toEqual(['transforms/heavy/demoteam_orders/', 'data/demoteam/orders/']);
    expect(existsSync(join(root, 'transforms/heavy/demoteam_orders'))).toBe(false);
    expect(existsSync(join(root, 'data/demoteam/orders'))).toBe(false);
    // And the light transform legislators shares stays, and says why
    expect(existsSync(join(root, 'transforms/light/sdlf_light_transform.ts'))).toBe(true);
    expect(result.shared).toEqual(['transforms/light/sdlf_light_transform.ts (used by demoteam/legislators)']);
    expect(io.lines.map((l) => l.message)).toContain(
      'Keeping transforms/light/sdlf_light_transform.ts (used by demoteam/legislators): other datasets use it.',
    );
  });

  it('keeps the files by default and prints the rm -r that deletes them', async () => {
    const root = track(freshProject());
    await addDataset({ root, team: 'demoteam', dataset: 'orders' }, createRecordingIo());
    const result = await removeDataset({ root, team: 'demoteam', dataset: 'orders' }, createRecordingIo());
    expect(result.removed).toEqual([]);
    expect(existsSync(join(root, 'transforms/heavy/demoteam_orders/transform.sql'))).toBe(true);
    expect(result.removeCommand).toBe('rm -r transforms/heavy/demoteam_orders/ data/demoteam/orders/');
    expect(formatRemoveDatasetSummary(result)).toContain(
      'Kept its files that nothing else uses (--remove-files deletes them); to delete them yourself: rm -r transforms/heavy/demoteam_orders/ data/demoteam/orders/',
    );
    expect(read(root, 'parameters.json')).not.toContain('"orders"');
  });

  it('asks before deleting when told to, and keeps the files when the answer is no', async () => {
    const root = track(freshProject());
    await addDataset({ root, team: 'demoteam', dataset: 'orders' }, createRecordingIo());
    const io = createRecordingIo([false]);
    const result = await removeDataset({ root, team: 'demoteam', dataset: 'orders', files: 'ask' }, io);
    expect(io.lines.filter((l) => l.level === 'confirm').map((l) => l.message)).toEqual([
      'Delete these 2 file(s) and folder(s) of demoteam/orders?',
    ]);
    expect(result.removed).toEqual([]);
    expect(existsSync(join(root, 'data/demoteam/orders'))).toBe(true);
  });

  it('prints the commands that delete its stack and its data, which stay on AWS', async () => {
    const root = track(freshProject());
    const result = await removeDataset({ root, team: 'demoteam', dataset: 'legislators' }, createRecordingIo());
    const [dev] = result.aws;
    expect(dev?.stack).toMatch(/-dev-demoteam-legislators$/);
    expect(dev?.deleteStackCommand).toBe(`aws cloudformation delete-stack --stack-name ${dev?.stack} --region ${dev?.region}`);
    expect(dev?.deleteDataCommands).toHaveLength(3);
    for (const command of dev?.deleteDataCommands ?? []) {
      expect(command).toMatch(
        /^aws s3 rm s3:\/\/ddk-dev-(raw|stage|analytics)-us-east-1-\d{12}\/demoteam\/legislators\/ --recursive --region us-east-1$/,
      );
    }
    const summary = formatRemoveDatasetSummary(result).join('\n');
    expect(dev?.pruneCommand).toBe('sdlf deploy --env dev --prune');
    expect(summary).toContain(`its stack ${dev?.stack} stays until "sdlf deploy --env dev --prune" deletes it (it asks first;`);
    expect(summary).toContain('nothing deletes it unless you do');
  });

  it('refuses an unregistered dataset, naming it and the file and listing what is registered, and changes nothing', async () => {
    const root = track(freshProject());
    const before = read(root, 'parameters.json');
    const failure = await error(removeDataset({ root, team: 'demoteam', dataset: 'legislator' }, createRecordingIo()));
    expect(failure).toBeInstanceOf(SdlfError);
    expect(failure).toMatchObject({ code: 'UNKNOWN_DATASET' });
    expect(failure.message).toBe(
      'Dataset "demoteam/legislator" is not registered in any environment of parameters.json; did you mean "demoteam/legislators"?',
    );
    expect(String(failure.suggestions)).toContain('Registered datasets: demoteam/legislators.');
    expect(read(root, 'parameters.json')).toBe(before);
  });

  it('refuses an invalid name before reading the project', async () => {
    const failure = await error(removeDataset({ root: tempDir(), team: 'Demo Team', dataset: 'x' }, createRecordingIo()));
    expect(failure.message).toContain('sdlf remove-dataset got invalid names:');
    expect(failure.message).toContain('--team');
  });

  it('removes it from one environment only: the others keep it, its transforms and data stay', async () => {
    // Given a dataset registered in dev and prod, with local run outputs in prod
    const root = tempDir();
    roots.push(root);
    writeJsonFiles(root, {
      'ddk.json': ddkJson({ prod: { account: '333333333333', region: 'eu-west-1', resource_prefix: 'ddk' } }),
      'parameters.json': {
        dev: [{ team: 'sales', dataset: 'orders' }],
        prod: [{ team: 'sales', dataset: 'orders' }],
      },
    });
    await addDataset({ root, team: 'sales', dataset: 'orders' }, createRecordingIo());
    mkdirSync(join(root, '.sdlf/local/prod/analytics/sales/orders'), { recursive: true });
    // When it is removed from prod with its files
    const result = await removeDataset(
      { root, team: 'sales', dataset: 'orders', envs: ['prod'], files: 'remove' },
      createRecordingIo(),
    );
    // Then dev keeps it and everything dev needs; prod's local outputs go
    expect(JSON.parse(read(root, 'parameters.json'))).toEqual({ dev: [{ team: 'sales', dataset: 'orders' }], prod: [] });
    expect(result.stillRegistered).toEqual(['dev']);
    expect(result.removed).toEqual(['.sdlf/local/prod/analytics/sales/orders/']);
    expect(existsSync(join(root, 'data/sales/orders'))).toBe(true);
    expect(result.shared.map((s) => s.split(' ')[0])).toEqual([
      'transforms/light/sdlf_light_transform.ts',
      'transforms/heavy/sdlf_heavy_transform/',
    ]);
    expect(result.aws.map((a) => [a.env, a.region])).toEqual([['prod', 'eu-west-1']]);
  });

  it('refuses an environment the dataset is not registered in, saying where it is', async () => {
    const root = tempDir();
    roots.push(root);
    writeJsonFiles(root, {
      'ddk.json': ddkJson({ prod: { account: '333333333333', region: 'eu-west-1', resource_prefix: 'ddk' } }),
      'parameters.json': { dev: [{ team: 'sales', dataset: 'orders' }], prod: [] },
    });
    const failure = await error(removeDataset({ root, team: 'sales', dataset: 'orders', envs: ['prod'] }, createRecordingIo()));
    expect(failure).toMatchObject({ code: 'UNKNOWN_DATASET' });
    expect(failure.message).toBe(
      'Dataset "sales/orders" is not registered in "prod" in parameters.json; it is registered in dev.',
    );
  });

  it("keeps the file's own style: nested config entries and 4-space indentation", async () => {
    const root = copyFixture('seed-nested');
    roots.push(root);
    const before = read(root, 'parameters.json');
    await removeDataset({ root, team: 'demoteam', dataset: 'newdata' }, createRecordingIo());
    const after = read(root, 'parameters.json');
    expect(after).toContain('\n    "dev": [\n        {\n            "team": "demoteam",');
    expect(after).not.toContain('newdata');
    expect(JSON.parse(after).dev).toEqual(JSON.parse(before).dev.filter((d: { dataset: string }) => d.dataset !== 'newdata'));
  });

  it('changes nothing in a dry run, and says what it would delete', async () => {
    const root = track(freshProject());
    await addDataset({ root, team: 'demoteam', dataset: 'orders' }, createRecordingIo());
    const before = read(root, 'parameters.json');
    const io = createRecordingIo();
    const result = await removeDataset({ root, team: 'demoteam', dataset: 'orders', files: 'remove', dryRun: true }, io);
    expect(read(root, 'parameters.json')).toBe(before);
    expect(existsSync(join(root, 'data/demoteam/orders'))).toBe(true);
    expect(io.lines.map((l) => l.message)).toContain('(dry run) delete    data/demoteam/orders/');
    expect(formatRemoveDatasetSummary(result)[0]).toBe(
      'Dry run: would unregister demoteam/orders from dev of parameters.json; nothing was changed.',
    );
  });

  it('writes parameters.json atomically: no temporary file is left beside it', async () => {
    const root = track(freshProject());
    writeFileSync(join(root, 'notes.txt'), 'mine');
    await removeDataset({ root, team: 'demoteam', dataset: 'legislators', files: 'keep' }, createRecordingIo());
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(root).filter((f) => f.includes('.sdlf-') && f.endsWith('.tmp'))).toEqual([]);
    expect(read(root, 'notes.txt')).toBe('mine');
  });
});
