// Measures the wall time of deploying the demo project `sdlf init` writes (the real embedded app: foundations, the
// demoteam/standard pipeline and the legislators dataset stack) and of delete-all, against the patched moto_server
// (test/moto/server.py), through the moto lifecycle suite. A relative figure to catch regressions in the
// toolkit wiring and delete-all; it says nothing about AWS, where CloudFormation dominates.
// Usage: node bench/lifecycle.mjs [runs=3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './lib.mjs';

const runs = Number(process.argv[2] ?? 3);
const wanted = { deploy: /^deploys the demo project directly/, 'delete-all': /^deletes the environment after asking/ };
const samples = { deploy: [], 'delete-all': [] };
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'sdlf-bench-'));
  const report = join(dir, 'report.json');
  const run = spawnSync(
    'npx',
    ['vitest', 'run', 'test/lifecycle/moto-lifecycle.test.ts', '--reporter=json', `--outputFile.json=${report}`],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } },
  );
  if (run.status !== 0) throw new Error('the moto lifecycle suite failed; fix it before benchmarking');
  const tests = JSON.parse(readFileSync(report, 'utf8')).testResults.flatMap((f) => f.assertionResults);
  for (const [name, pattern] of Object.entries(wanted)) {
    const test = tests.find((t) => pattern.test(t.title));
    if (test) samples[name].push(test.duration);
  }
  rmSync(dir, { recursive: true, force: true });
}
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `${name.padEnd(10)} median ${(median(values) / 1000).toFixed(2)} s over ${values.length} run(s): ${values.map((v) => (v / 1000).toFixed(2)).join(', ')} s`,
  );
}
