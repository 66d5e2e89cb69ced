import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/project.js';
import { writeProject } from './helpers.js';

/**
 * A module preloaded with `node --import` that prints, as the process exits, every module of @oclif/core that was
 * loaded (it is CommonJS, so each of its files is in the require cache).
 */
function oclifProbe(): string {
  const file = join(tempDir('sdlf-probe-'), 'probe.mjs');
  writeFileSync(
    file,
    `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const loaded = Object.keys(require.cache).filter((path) => /node_modules[\\\\/]@oclif[\\\\/]core[\\\\/]/.test(path));
  process.stderr.write('OCLIF_MODULES=' + loaded.length + '\\n');
});
`,
  );
  return file;
}

/** Runs `node --import <probe> <args>` and returns the number of @oclif/core modules it loaded. */
async function oclifModulesLoaded(args: readonly string[], options: { cwd: string; env?: Record<string, string> }) {
  const run = await execa('node', ['--import', oclifProbe(), ...args], { ...options, reject: false });
  const count = /OCLIF_MODULES=(\d+)/.exec(run.stderr)?.[1];
  if (count === undefined) throw new Error(`the probe printed nothing:\n${run.stderr}`);
  return { exitCode: run.exitCode, count: Number(count) };
}

describe('bin/cdk-app.js', { timeout: 240_000 }, () => {
  it('synthesizes a project without loading @oclif/core', async () => {
    // Given a project and the embedded app that its cdk.json runs
    const root = writeProject({ dev: [{ team: 'demoteam', dataset: 'legislators' }] });

    // When the app synthesizes
    const run = await oclifModulesLoaded([join(repoRoot, 'bin', 'cdk-app.js')], {
      cwd: root,
      env: { CDK_OUTDIR: tempDir('sdlf-cdk-out-'), CDK_VALIDATION: 'false', CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });

    // Then it succeeds and no module of the CLI framework was loaded
    expect(run.exitCode).toBe(0);
    expect(run.count).toBe(0);
  });

  it('reports a user error without loading @oclif/core', async () => {
    const run = await oclifModulesLoaded([join(repoRoot, 'bin', 'cdk-app.js')], {
      cwd: tempDir(),
      env: { CDK_OUTDIR: tempDir() },
    });
    expect(run.exitCode).toBe(2);
    expect(run.count).toBe(0);
  });

  it('is checked by a probe that does see oclif where it is loaded (a command of the CLI; --version answers without it)', async () => {
    const run = await oclifModulesLoaded([join(repoRoot, 'bin', 'run.js'), 'validate', '--help'], { cwd: tempDir() });
    expect(run.exitCode).toBe(0);
    expect(run.count).toBeGreaterThan(0);
  });
});
