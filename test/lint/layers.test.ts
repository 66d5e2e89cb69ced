import { appendFileSync, cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/project.js';

/** Runs the layer check (`npm run lint:layers`) in `cwd`. */
async function checkLayers(cwd: string) {
  const result = await execa('npm', ['run', '--silent', 'lint:layers'], { cwd, reject: false, all: true });
  return { exitCode: result.exitCode, output: String(result.all) };
}

/** Copies src/, the rule file and what it reads into a temporary folder that shares the repository's node_modules. */
function copyOfTheTree(): string {
  const dir = tempDir('sdlf-layers-');
  cpSync(join(repoRoot, 'src'), join(dir, 'src'), { recursive: true });
  for (const file of ['.dependency-cruiser.mjs', 'tsconfig.json', 'package.json']) {
    cpSync(join(repoRoot, file), join(dir, file));
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

describe('the layer rules', () => {
  it('are part of npm run lint', () => {
    const scripts = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.lint).toContain('npm run --silent lint:layers');
    expect(scripts['lint:layers']).toMatch(/^depcruise src\b/);
  });

  it('pass on the tree as it is', async () => {
    const { exitCode, output } = await checkLayers(repoRoot);
    expect(output).toContain('no dependency violations found');
    expect(exitCode).toBe(0);
  });

  it.each([
    {
      violation: 'the ground floor importing a service',
      edit: (dir: string) =>
        appendFileSync(join(dir, 'src/core/wait.ts'), "\nexport { synthProject } from '../services/synth.js';\n"),
      expected: ['core-is-the-ground-floor: src/core/wait.ts → src/services/synth.ts'],
    },
    {
      violation: 'the toolkit importing the app',
      edit: (dir: string) =>
        appendFileSync(join(dir, 'src/toolkit/toolkit.ts'), "\nexport { buildApp } from '../app/index.js';\n"),
      expected: ['engines-do-not-import-each-other: src/toolkit/toolkit.ts → src/app/index.ts'],
    },
    {
      violation: 'a command importing the toolkit',
      edit: (dir: string) =>
        appendFileSync(join(dir, 'src/commands/deploy.ts'), "\nexport { REQUIRE_APPROVAL } from '../toolkit/io-host.js';\n"),
      expected: ['commands-go-through-services: src/commands/deploy.ts → src/toolkit/io-host.ts'],
    },
    {
      violation: 'a construct importing the runtime beyond its contract',
      edit: (dir: string) =>
        appendFileSync(join(dir, 'src/constructs/foundations.ts'), "\nexport { objectIdOf } from '../runtime/core/ids.js';\n"),
      expected: ['constructs-see-only-the-runtime-contract: src/constructs/foundations.ts → src/runtime/core/ids.ts'],
    },
    {
      violation: 'the runtime core importing an AWS adapter',
      edit: (dir: string) =>
        appendFileSync(
          join(dir, 'src/runtime/core/route.ts'),
          "\nexport { DynamoMetadataStore } from '../aws/dynamo-metadata-store.js';\n",
        ),
      expected: ['runtime-core-is-pure: src/runtime/core/route.ts → src/runtime/aws/dynamo-metadata-store.ts'],
    },
    {
      violation: 'config loading oclif, which the embedded app and the Lambda handlers would then load',
      edit: (dir: string) => appendFileSync(join(dir, 'src/config/naming.ts'), "\nexport { Errors } from '@oclif/core';\n"),
      expected: [
        'only-the-cli-talks-to-the-terminal: src/config/naming.ts → node_modules/@oclif/core',
        'embedded-app-loads-no-cli: src/app/build-app.ts → node_modules/@oclif/core',
        'lambda-code-loads-no-cli-or-cdk: src/runtime/handlers/routing/handler.ts → node_modules/@oclif/core',
      ],
    },
    {
      violation: 'two modules importing each other',
      edit: (dir: string) => {
        writeFileSync(join(dir, 'src/core/ping.ts'), "export { pong } from './pong.js';\nexport const ping = 1;\n");
        writeFileSync(join(dir, 'src/core/pong.ts'), "export { ping } from './ping.js';\nexport const pong = 2;\n");
      },
      expected: ['no-circular: src/core/ping.ts →'],
    },
  ])('fail on $violation, naming the rule and the file', async ({ edit, expected }) => {
    // Given a copy of the tree with one import that breaks a rule
    const dir = copyOfTheTree();
    edit(dir);

    // When the layers are checked
    const { exitCode, output } = await checkLayers(dir);

    // Then the check fails and names the rule and the importing file
    expect(exitCode).not.toBe(0);
    // (the copy's node_modules is a link to the repository's, which the checker names by its real path)
    const text = output.replaceAll(/\S*node_modules\/(@oclif\/core)\S*/g, 'node_modules/$1');
    for (const line of expected) expect(text).toContain(line);
  });
});
