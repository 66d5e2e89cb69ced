import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { initProject } from '../../src/services/init-project.js';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { copyFixture, snapshotTree, tempDir } from '../helpers/project.js';

let template: string;

beforeAll(async () => {
  ensureBuilt();
  template = join(tempDir(), 'lake');
  await initProject(
    { install: false, directory: template, prefix: 'acme', account: '123456789012', region: 'eu-west-1', cicd: false },
    createRecordingIo(),
  );
});

function freshProject(): string {
  const root = join(tempDir(), 'lake');
  cpSync(template, root, { recursive: true });
  return root;
}

/** Rewrites a JSON file of a project through a text replacement. */
function replaceIn(root: string, file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(join(root, file), 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file} does not contain ${String(from)}`);
  writeFileSync(join(root, file), next);
}

describe('sdlf validate', () => {
  it('describes a valid project on stdout', async () => {
    const root = freshProject();
    const run = await sdlf(['validate', '--path', root]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Project ${root} is valid.`);
    const projectId = JSON.parse(readFileSync(join(root, 'ddk.json'), 'utf8')).project_id;
    expect(projectId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.stdout).toContain(`  project id: ${projectId}`);
    expect(run.stdout).toContain('environment dev: account 123456789012, eu-west-1, prefix "acme", 1 dataset(s)');
    expect(run.stdout).toContain('CI/CD: off (codecommit:lake@main)');
  });

  it('prints the result as JSON under --json', async () => {
    const run = await sdlf(['validate', '--path', freshProject(), '--json']);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.datasets).toEqual([
      {
        env: 'dev',
        team: 'demoteam',
        dataset: 'legislators',
        pipeline: 'standard',
        stageATransform: 'sdlf_light_transform',
        stageBTransform: 'sdlf_heavy_transform',
      },
    ]);
  });

  it("accepts the seed's files unchanged once add-dataset scaffolds the transforms it reports missing", async () => {
    for (const fixture of ['seed-flat', 'seed-nested']) {
      // Given the seed's configuration: it loads, but its datasets have no sdlf transform files
      const root = copyFixture(fixture);
      const before = await sdlf(['validate', '--path', root]);
      expect(before.exitCode).toBe(2);
      const reported = oneLine(before.stderr);
      expect(reported).toContain('which does not exist');
      expect(reported).not.toMatch(/Unknown key|is not valid here|is invalid/);
      // When add-dataset runs for each dataset, as the problems suggest
      const entries = JSON.parse(
        readFileSync(join(root, fixture === 'seed-flat' ? 'data_lake/pipelines/parameters.json' : 'parameters.json'), 'utf8'),
      ).dev as Array<{ team: string; dataset: string; pipeline?: string }>;
      for (const entry of entries) {
        const run = await sdlf([
          'add-dataset',
          '--path',
          root,
          '--team',
          entry.team,
          '--dataset',
          entry.dataset,
          '--pipeline',
          entry.pipeline ?? 'standard',
        ]);
        expect(run.exitCode).toBe(0);
      }
      // Then the project validates
      const after = await sdlf(['validate', '--path', root]);
      expect(after.stderr.replace(/^Warning: .*$\n?/gm, '')).toBe('');
      expect(after.exitCode).toBe(0);
    }
  });

  it.each<[string, (root: string) => void, string]>([
    ['malformed JSON', (root) => replaceIn(root, 'ddk.json', '"cicd": {', '"cicd": {,'), 'ddk.json:4:14 is not valid JSON'],
    [
      'a 10-digit account',
      (root) => replaceIn(root, 'ddk.json', '"123456789012"', '"1234567890"'),
      '"1234567890" is not valid here: must be a 12-digit AWS account id',
    ],
    ['an unknown region', (root) => replaceIn(root, 'ddk.json', '"eu-west-1"', '"eu-wset-1"'), 'Did you mean "eu-west-1"?'],
    [
      'an unknown key',
      (root) => replaceIn(root, 'ddk.json', '"manual_approvals"', '"manual_aproval"'),
      'Unknown key "manual_aproval"; did you mean "manual_approvals"?',
    ],
    [
      'a missing environment',
      (root) => replaceIn(root, 'parameters.json', '"dev"', '"prod"'),
      'Environment "prod" has datasets but is not in ddk.json',
    ],
    [
      'an uppercase team',
      (root) => replaceIn(root, 'parameters.json', '"demoteam"', '"DemoTeam"'),
      'Team name "DemoTeam" is invalid',
    ],
    [
      'a dataset with an underscore',
      (root) => replaceIn(root, 'parameters.json', '"legislators"', '"us_legislators"'),
      'Dataset name "us_legislators" is invalid',
    ],
    [
      'a pipeline type that does not exist',
      (root) => replaceIn(root, 'parameters.json', '"standard"', '"streaming"'),
      'Pipeline type "streaming" does not exist',
    ],
    [
      'a dataset in two pipelines of its team',
      (root) =>
        replaceIn(
          root,
          'parameters.json',
          /\n {2}\]/,
          ',\n    { "team": "demoteam", "pipeline": "custom", "dataset": "legislators" }\n  ]',
        ),
      'Dataset "legislators" of team "demoteam" is registered twice in "dev"',
    ],
    [
      'a dataset too long for AWS names',
      (root) => replaceIn(root, 'parameters.json', '"legislators"', '"legislators-of-the-united-state"'),
      'Dataset name "legislators-of-the-united-state" is invalid',
    ],
    [
      'a missing transform',
      (root) => rmSync(join(root, 'transforms', 'light', 'sdlf_light_transform.ts')),
      'needs transforms/light/sdlf_light_transform.ts, which does not exist',
    ],
    [
      'a heavy transform without its transform.sql',
      (root) => rmSync(join(root, 'transforms', 'heavy', 'sdlf_heavy_transform', 'transform.sql')),
      'needs transforms/heavy/sdlf_heavy_transform/transform.sql (the SQL its Glue job runs), which does not exist',
    ],
    [
      'a transform.sql whose query does not parse',
      (root) =>
        replaceIn(
          root,
          'transforms/heavy/sdlf_heavy_transform/transform.sql',
          'contact_details\nFROM persons;',
          'contact_details\nFRM persons;',
        ),
      'transforms/heavy/sdlf_heavy_transform/transform.sql:8: the query of persons does not parse: syntax error at or near "persons"',
    ],
    [
      'a misspelt transform.sql',
      (root) => {
        const dir = join(root, 'transforms', 'heavy', 'sdlf_heavy_transform');
        cpSync(join(dir, 'transform.sql'), join(dir, 'transfrom.sql'));
        rmSync(join(dir, 'transform.sql'));
      },
      'the folder has transforms/heavy/sdlf_heavy_transform/transfrom.sql instead. Fix: Rename transforms/heavy/sdlf_heavy_transform/transfrom.sql to transform.sql.',
    ],
    [
      'a cdk.json that is not JSON',
      (root) => replaceIn(root, 'cdk.json', /\n\s*"context": \{/, '\n  "context": {,'),
      'cdk.json:3:15 is not valid JSON',
    ],
    [
      'a cdk.json whose context is not an object',
      (root) => writeFileSync(join(root, 'cdk.json'), '{ "app": "npx sdlf synth", "context": ["a"] }\n'),
      'cdk.json: "context" is ["a"], not an object.',
    ],
  ])('exits 2 on %s, naming the value, and changes nothing', async (_, arrange, message) => {
    const root = freshProject();
    arrange(root);
    const before = snapshotTree(root);
    const run = await sdlf(['validate', '--path', root]);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toContain(message);
    expect(snapshotTree(root)).toEqual(before);
  });

  it('accepts ddk.json and parameters.json saved with a UTF-8 byte order mark, and add-dataset keeps the mark', async () => {
    // Given a project whose JSON files an editor saved with a BOM
    const root = freshProject();
    for (const file of ['ddk.json', 'parameters.json'])
      writeFileSync(join(root, file), `\uFEFF${readFileSync(join(root, file), 'utf8')}`);
    // When validate and add-dataset run
    const validate = await sdlf(['validate', '--path', root, '--no-spark']);
    const add = await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'orders']);
    // Then both succeed, and parameters.json keeps its BOM with the new dataset
    expect(validate.exitCode, validate.stderr).toBe(0);
    expect(add.exitCode, add.stderr).toBe(0);
    const parameters = readFileSync(join(root, 'parameters.json'), 'utf8');
    expect(parameters.startsWith('\uFEFF{')).toBe(true);
    expect(parameters).toContain('"orders"');
  });

  it('exits 2 on a folder that is not an sdlf project', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'src'));
    const run = await sdlf(['validate', '--path', root, '--json']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr) + run.stdout).toContain(`${root} is not an sdlf project`);
  });
});
