// Runs the test suite with vitest and prints one plain summary line, `N passed, N failed`, for CI.
// Extra arguments go to vitest (e.g. a file filter). Exits non-zero when any test fails or none ran.
// The Python tools the tests run (moto_server, cfn-lint, PySpark) come from `.venv`, made here from the pinned
// python/requirements-dev.txt when it is missing or out of date (scripts/python-env.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePythonEnv } from './python-env.mjs';

let path;
try {
  path = ensurePythonEnv();
} catch (error) {
  console.error(`test: the Python environment could not be made: ${error instanceof Error ? error.message : error}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'sdlf-test-'));
const report = join(dir, 'report.json');
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, PATH: path, CDK_DISABLE_CLI_TELEMETRY: 'true' } },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed = result.numPassedTests;
  failed = result.numFailedTests + (result.numFailedTestSuites ?? 0);
  skipped = (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
} catch {
  failed = Math.max(failed, 1);
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(vitest.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
