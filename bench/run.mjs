// Runs the benchmarks: every bench/*.mjs except this runner and lib.mjs, or only those named on the command line
// (`npm run bench -- startup`). Each writes its section of BENCHMARKS.md. Exits non-zero when one fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const available = readdirSync(dir)
  .filter((name) => name.endsWith('.mjs') && name !== self && name !== 'lib.mjs')
  .map((name) => name.slice(0, -'.mjs'.length))
  .sort();
const requested = process.argv.slice(2).map((name) => name.replace(/\.mjs$/, ''));
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${available.join(', ')}.`);
  process.exit(2);
}
const selected = requested.length > 0 ? requested : available;
const failed = [];
for (const name of selected) {
  console.log(`\n=== bench/${name}.mjs ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(dir, `${name}.mjs`)], {
    stdio: 'inherit',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.status === 0) console.log(`=== ${name}: done in ${seconds} s ===`);
  else {
    failed.push(name);
    console.log(`=== ${name}: FAILED (exit ${run.status ?? run.signal}) after ${seconds} s ===`);
  }
}
console.log(
  `\n${selected.length - failed.length} benchmark(s) passed, ${failed.length} failed${failed.length ? `: ${failed.join(', ')}` : ''}`,
);
process.exit(failed.length > 0 ? 1 : 0);
