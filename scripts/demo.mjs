// npm run demo: builds the package if needed, creates a fresh demo project in ./demo with `sdlf init --yes`, and
// runs the legislators pipeline locally (`sdlf run --local`), printing each table with its row count.
// ./demo is replaced when it is a previous demo project (it holds the marker file below); any other ./demo is
// left alone and the script stops. Usage: node scripts/demo.mjs [folder]   (default: ./demo in the repository)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'run.js');
const demo = resolve(root, process.argv[2] ?? 'demo');
const MARKER = '.sdlf-demo';
const MARKER_TEXT = 'Created by "npm run demo"; the next "npm run demo" replaces this folder.\n';
const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };

function fail(message) {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

function sdlf(args, options = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, env, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const started = Date.now();

// 1. Build once: a fresh clone has no dist/.
if (!existsSync(join(root, 'dist', 'commands', 'run.js')) || !existsSync(join(root, 'oclif.manifest.json'))) {
  process.stderr.write('demo: building the package (first run only)…\n');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, env, stdio: 'inherit' });
}

// 2. Never replace a ./demo that this script did not create.
if (existsSync(demo) && !existsSync(join(demo, MARKER))) {
  fail(
    `${demo} exists and is not a previous demo project (no ${MARKER} file in it). Move it away, then run "npm run demo" again.`,
  );
}

// 3. Create the new project beside, then swap it in: a failed init leaves the previous demo as it was.
const scratch = mkdtempSync(join(dirname(demo), '.demo-'));
try {
  // init's own "next steps" name the scratch folder: keep its progress (stderr), not its summary.
  const status = sdlf(['init', basename(demo), '--yes', '--path', scratch], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    fail(`"sdlf init" failed (exit ${status}); the previous demo, if any, is unchanged.`);
  }
  writeFileSync(join(scratch, basename(demo), MARKER), MARKER_TEXT);
  rmSync(demo, { recursive: true, force: true });
  renameSync(join(scratch, basename(demo)), demo);
  process.stderr.write(`demo: created the project ${demo} (sdlf init ${basename(demo)} --yes)\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// 4. Run the legislators dataset locally; the summary (objects, tables, row counts) goes to stdout.
process.stderr.write('\ndemo: running the legislators pipeline locally…\n');
const status = sdlf(['run', '--local', '--team', 'demoteam', '--dataset', 'legislators', '--path', demo]);
if (status !== 0) fail(`"sdlf run --local" exited with ${status}.`);

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
process.stderr.write(
  `\ndemo: done in ${((Date.now() - started) / 1000).toFixed(1)} s with sdlf ${manifest.version}. Next: open ${join(demo, 'README.md')}, ` +
    `edit the SQL in transforms/heavy/ and run "npx sdlf run --local --team demoteam --dataset legislators --path ${demo}".\n`,
);
