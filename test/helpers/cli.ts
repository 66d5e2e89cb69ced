import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './project.js';

/** The built binary, as users run it. */
export const binPath = join(repoRoot, 'bin', 'run.js');

/** Builds the package unless a build is there (CI builds before testing); one build at a time across processes. */
export function ensureBuilt(): void {
  const built = () =>
    existsSync(join(repoRoot, 'oclif.manifest.json')) &&
    existsSync(join(repoRoot, 'dist', 'commands')) &&
    existsSync(join(repoRoot, 'dist', 'templates'));
  if (built()) return;
  const script = 'test -f oclif.manifest.json -a -d dist/templates || node scripts/build.mjs';
  execFileSync('flock', ['/tmp/sdlf-build.lock', 'sh', '-c', script], { cwd: repoRoot, stdio: 'inherit' });
  if (!built())
    throw new Error('The build did not produce dist/ and oclif.manifest.json; run "npm run build" and look at its errors.');
}

/** What a CLI run printed and returned. */
export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Environment of a CLI run: the test process's, without AWS_* and SDLF_* variables (so nothing is inferred from
 * the machine), plus `SDLF_INSTALL=false` (`sdlf init --no-install`: these tests need no node_modules in the
 * project; test/package installs one), `SDLF_NODE_WARNING=false` (no Node.js version line on every run;
 * test/lifecycle/cli.test.ts and test/package check it) and `extra`.
 */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('AWS_') && !key.startsWith('SDLF_')) env[key] = value;
  }
  return {
    ...env,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    NO_COLOR: '1',
    SDLF_INSTALL: 'false',
    SDLF_NODE_WARNING: 'false',
    ...extra,
  };
}

/** Runs `sdlf <args>` with the built binary, without a terminal. */
export async function sdlf(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  const result = await execa('node', [binPath, ...args], {
    reject: false,
    extendEnv: false,
    env: cliEnv(options.env),
    cwd: options.cwd ?? repoRoot,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Joins the lines oclif wraps an error into (` ›   ` continuation lines), to match messages in one piece. */
export function oneLine(text: string): string {
  return text.replaceAll(/\s*\n ›\s+/g, ' ');
}
