import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, sdlf } from '../helpers/cli.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { repoRoot } from '../helpers/project.js';

const readme = () => readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** The command reference of a README: what oclif writes between its two markers. */
const commandReference = (text: string) =>
  /^<!-- commands -->$[\s\S]*^<!-- commandsstop -->$/m.exec(text)?.[0] ?? '(no command reference)';

beforeAll(() => ensureBuilt());

describe('README', { timeout: 120_000 }, () => {
  it('has the command reference oclif generates from the commands as built (npm run readme writes it)', async () => {
    // The same generator as `npm run readme`, printing instead of writing
    const run = await execa('oclif', ['readme', '--no-aliases', '--dry-run'], {
      cwd: repoRoot,
      preferLocal: true,
      reject: false,
      env: { OCLIF_SKIP_NEW_VERSION_CHECK: 'true' },
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const generated = commandReference(run.stdout);
    expect(generated).toContain('## `sdlf init [DIRECTORY]`');
    expect(commandReference(readme()), 'README.md is behind the commands: run "npm run readme"').toBe(generated);
  });

  it('states the stacks, resources, functions and keys of the default project that sdlf synth makes', async () => {
    // Given the project `sdlf init --yes` writes
    const root = (await initializedProjectCopies())();
    // When it is synthesized
    const run = await sdlf(['synth', '--path', root]);
    expect(run.exitCode, run.stderr).toBe(0);
    const [, stacks, resources] = /(\d+) stack\(s\), (\d+) resource\(s\)/.exec(run.stdout) ?? [];
    const templates = readdirSync(join(root, 'cdk.out'))
      .filter((file) => file.endsWith('.template.json'))
      .map(
        (file) =>
          JSON.parse(readFileSync(join(root, 'cdk.out', file), 'utf8')) as { Resources: Record<string, { Type: string }> },
      );
    const count = (type: string) =>
      templates.flatMap((t) => Object.values(t.Resources)).filter((resource) => resource.Type === type).length;
    // Then the README's figures are those
    expect(readme().replace(/\s+/g, ' ')).toContain(
      `The default project is ${stacks} stacks and ${resources} resources (\`sdlf synth\`), with ${count('AWS::Lambda::Function')} Lambda functions and ${plural(count('AWS::KMS::Key'), 'customer-managed KMS key')}`,
    );
  });
});

/** `1 key`, `2 keys`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
