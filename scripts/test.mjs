// Runs the test suite with vitest and prints one plain summary line, `N passed, N failed`, for CI.
// Extra arguments go to vitest (e.g. a file filter). Exits non-zero when any test fails or none ran.
// The Python tools the tests run (moto_server, cfn-lint, PySpark) come from `.venv`, made here from the pinned
// python/requirements-dev.txt when it is missing or out of date (scripts/python-env.mjs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
// Every temporary folder of the run (projects, clones with their node_modules, local lakes) goes under one folder
// that is deleted at the end, so repeated runs do not fill the disk; SDLF_KEEP_TEST_TMP=1 keeps it to look into.
const scratch = join(dir, 'tmp');
mkdirSync(scratch);
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { ...process.env, PATH: path, CDK_DISABLE_CLI_TELEMETRY: 'true', TMPDIR: scratch, TMP: scratch, TEMP: scratch },
  },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  const tests = result.testResults.flatMap((file) => file.assertionResults.map((test) => ({ file: file.name, ...test })));
  // "pending" is a test still queued or running when the report was written (its worker died): it did not pass.
  const unfinished = tests.filter((test) => test.status === 'pending');
  for (const test of unfinished) console.error(`test: did not finish: ${test.file} > ${test.fullName}`);
  passed = result.numPassedTests;
  // A file that failed outside its tests (an import error, a failing hook) counts once.
  const brokenFiles = result.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  );
  for (const file of brokenFiles) console.error(`test: failed outside its tests: ${file.name}: ${file.message}`);
  failed = result.numFailedTests + brokenFiles.length + unfinished.length;
  skipped = tests.filter((test) => test.status === 'skipped' || test.status === 'todo').length;
} catch {
  failed = Math.max(failed, 1);
}
// Vitest exits non-zero on an error outside any test (an unhandled rejection, a worker that crashed): count it.
if (vitest.status !== 0 && failed === 0) {
  console.error(`test: vitest exited ${vitest.status ?? vitest.signal} with no failed test: see its "Unhandled Errors" above`);
  failed = 1;
}
if (process.env.SDLF_KEEP_TEST_TMP) console.error(`test: kept the run's temporary folders in ${scratch}`);
else rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(vitest.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
