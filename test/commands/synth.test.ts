import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { initProject } from '../../src/services/init-project.js';
import { writeProject } from '../app/helpers.js';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { ddkJson, tempDir } from '../helpers/project.js';

beforeAll(() => ensureBuilt());

/** The default project: one team, one standard dataset, with its transforms and a tsconfig/package.json-less root. */
function freshProject(): string {
  return writeProject({ dev: [{ team: 'demoteam', dataset: 'legislators' }] }, { ddk: ddkJson() });
}

// A synth takes seconds on an idle machine and much longer on a loaded CI runner.
describe('sdlf synth', { timeout: 240_000 }, () => {
  it('synthesizes the default project offline, cdk-nag clean, and prints its stacks', async () => {
    // Given a project with one team and one standard dataset
    const root = freshProject();
    // When it is synthesized
    const run = await sdlf(['synth', '--path', root]);
    // Then every stack is listed with its resource count, progress went to stderr, templates to cdk.out
    expect(run.stderr).toContain('Synthesizing and running cdk-nag');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^STACK\s+ENV\s+KIND\s+RESOURCES$/m);
    expect(run.stdout).toMatch(/^ddk-dev-foundations\s+dev\s+foundations\s+\d+$/m);
    expect(run.stdout).toMatch(/^ddk-dev-demoteam-standard\s+dev\s+pipeline\s+\d+$/m);
    expect(run.stdout).toMatch(/^ddk-dev-demoteam-legislators\s+dev\s+dataset\s+\d+$/m);
    expect(existsSync(join(root, 'cdk.out', 'ddk-dev-foundations.template.json'))).toBe(true);
    // And nothing points at a stack id or flag of another tool
    expect(run.stderr).not.toContain('Supply a stack id');
  });

  it('synthesizes a project freshly made by sdlf init', async () => {
    // Given the project "sdlf init --yes" writes (legislators demo included)
    const root = join(tempDir(), 'demo');
    await initProject({ install: false, directory: root, yes: true }, createRecordingIo());
    // When it is synthesized offline
    const run = await sdlf(['synth', '--path', root, '--json', '--no-validation']);
    // Then it succeeds with cdk-nag clean and the three stacks of the demo
    expect(run.exitCode).toBe(0);
    const names = JSON.parse(run.stdout).stacks.map((s: { stackName: string }) => s.stackName);
    expect(names).toHaveLength(3);
    expect(names).toEqual(
      expect.arrayContaining([expect.stringMatching(/-foundations$/), expect.stringMatching(/-legislators$/)]),
    );
  });

  it('lists the stacks under --json and writes to --output', async () => {
    const root = freshProject();
    const run = await sdlf(['synth', '--path', root, '--json', '--env', 'dev', '--output', 'build/assembly', '--no-validation']);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.outdir).toBe(join(root, 'build', 'assembly'));
    expect(result.stacks).toContainEqual(
      expect.objectContaining({
        stackName: 'ddk-dev-foundations',
        kind: 'foundations',
        environment: 'dev',
        resources: expect.any(Number),
      }),
    );
    for (const stack of result.stacks) expect(existsSync(join(result.outdir, stack.templateFile))).toBe(true);
  });

  it('synthesizes a dataset of a custom pipeline type made by add-pipeline', async () => {
    const root = freshProject();
    expect((await sdlf(['add-pipeline', 'fast', '--path', root])).exitCode).toBe(0);
    expect(
      (await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'orders', '--pipeline', 'fast'])).exitCode,
    ).toBe(0);
    const run = await sdlf(['synth', '--path', root, '--json', '--no-validation']);
    expect(run.exitCode).toBe(0);
    const names = JSON.parse(run.stdout).stacks.map((s: { stackName: string }) => s.stackName);
    expect(names).toEqual(expect.arrayContaining(['ddk-dev-sales-fast', 'ddk-dev-sales-orders']));
  });

  it("applies cdk.json's context as plain cdk does, and refuses a broken cdk.json with its line, keeping cdk.out", async () => {
    // Given a project made by sdlf init whose cdk.json turns on CDK's path metadata
    const root = join(tempDir(), 'demo');
    await initProject({ install: false, directory: root, yes: true }, createRecordingIo());
    const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8'));
    cdkJson.context['aws:cdk:enable-path-metadata'] = true;
    writeFileSync(join(root, 'cdk.json'), JSON.stringify(cdkJson, null, 2));
    // When it is synthesized
    const run = await sdlf(['synth', '--path', root, '--no-validation']);
    // Then the templates carry the metadata the context asked for
    expect(run.exitCode, run.stderr).toBe(0);
    const template = readdirSync(join(root, 'cdk.out')).find((file) => file.endsWith('-foundations.template.json'));
    expect(readFileSync(join(root, 'cdk.out', template ?? 'missing'), 'utf8')).toContain('"aws:cdk:path"');
    // And when cdk.json is broken, synth exits 2 naming the line and column, and the previous cdk.out stays
    writeFileSync(join(root, 'cdk.json'), '{\n  "app": "x",\n  "context": { "a": }\n}\n');
    const broken = await sdlf(['synth', '--path', root]);
    expect(broken.exitCode).toBe(2);
    expect(oneLine(broken.stderr)).toContain('cdk.json:3:21 is not valid JSON');
    expect(existsSync(join(root, 'cdk.out', template ?? 'missing'))).toBe(true);
  });

  it('fails on an unknown environment and leaves the previous cdk.out as it was', async () => {
    const root = freshProject();
    mkdirSync(join(root, 'cdk.out'));
    writeFileSync(join(root, 'cdk.out', 'marker'), 'previous');
    const run = await sdlf(['synth', '--path', root, '--env', 'dve']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('Environment "dve" is not in ddk.json; did you mean "dev"?');
    expect(readFileSync(join(root, 'cdk.out', 'marker'), 'utf8')).toBe('previous');
  });

  it('fails with PIPELINE_BUILD_FAILED naming the file and line of a pipeline module that does not compile', async () => {
    const root = freshProject();
    mkdirSync(join(root, 'pipelines'));
    writeFileSync(join(root, 'pipelines', 'broken.ts'), "export default {\n  pipelineType: 'broken',\n  create( {\n};\n");
    const run = await sdlf(['synth', '--path', root, '--json']);
    expect(run.exitCode).toBe(2);
    const { error } = JSON.parse(run.stdout);
    expect(error.code).toBe('PIPELINE_BUILD_FAILED');
    expect(error.message).toContain('pipelines/broken.ts');
  });

  it('fails with INVALID_PIPELINE_TYPE when a module does not export a pipeline type', async () => {
    const root = freshProject();
    mkdirSync(join(root, 'pipelines'));
    writeFileSync(join(root, 'pipelines', 'empty.ts'), 'export const value = 1;\n');
    const run = await sdlf(['synth', '--path', root, '--json']);
    expect(run.exitCode).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'INVALID_PIPELINE_TYPE' });
  });
});
