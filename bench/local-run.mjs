// Measures `sdlf run --local` on the legislators demo: cold-process wall time and the split per stage at 1× the
// sample (target < 5 s), then 10× and 100× the memberships rows (time must grow at most linearly, peak RSS
// < 1 GiB at 100×). Each run is a new process with --fresh (an empty local lake, so every stage runs), timed by
// /usr/bin/time for wall time and peak RSS. Writes the "## Local run" section of BENCHMARKS.md.
// Usage: node bench/local-run.mjs [--scales 1,10,100] [--runs 3]   (needs `npm run build` first)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAtStart, nodeAndCpu, root, utcNow, writeSection } from './lib.mjs';

const bin = join(root, 'bin', 'run.js');
const TIME = '/usr/bin/time';
const TARGET_MS = 5000;
const RSS_LIMIT_KB = 1024 * 1024;
const HEADING = '## Local run';

const { values } = parseArgs({
  options: { scales: { type: 'string', default: '1,10,100' }, runs: { type: 'string', default: '3' } },
});
const scales = values.scales.split(',').map(Number);
const runsAtScale1 = Number(values.runs);
if (scales.some((s) => !Number.isInteger(s) || s < 1) || !Number.isInteger(runsAtScale1) || runsAtScale1 < 1) {
  console.error('Usage: node bench/local-run.mjs [--scales 1,10,100] [--runs 3]');
  process.exit(2);
}
for (const file of [join(root, 'dist', 'commands', 'run.js'), join(root, 'dist', 'examples', 'legislators.js')]) {
  if (!existsSync(file)) {
    console.error(`${file} is missing: run "npm run build" first.`);
    process.exit(2);
  }
}
if (spawnSync(TIME, ['-f', '%e', 'true'], { stdio: 'ignore' }).status !== 0) {
  console.error(`${TIME} (GNU time) is missing: install it (apt-get install -y time) and re-run.`);
  process.exit(2);
}
const { writeLegislatorsSample, LEGISLATORS_COUNTS } = await import(join(root, 'dist', 'examples', 'legislators.js'));

const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', NO_COLOR: '1' };
const load = loadavg()[0];
const work = mkdtempSync(join(tmpdir(), 'sdlf-bench-local-'));
const results = [];
try {
  execFileSync(process.execPath, [bin, 'init', 'bench', '--yes', '--path', work], { env, stdio: 'ignore' });
  const project = join(work, 'bench');
  const data = join(project, 'data', 'demoteam', 'legislators');
  for (const scale of scales) {
    await writeLegislatorsSample(data, { scale });
    // Larger scales run once: they take long, and the point there is growth and memory, not noise.
    const runs = scale === 1 ? runsAtScale1 : 1;
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(runOnce(project));
    samples.sort((a, b) => a.wallMs - b.wallMs);
    const median = samples[Math.floor(samples.length / 2)];
    results.push({ scale, memberships: LEGISLATORS_COUNTS.memberships * scale, runs, ...median });
    console.log(
      `${scale}×: wall ${ms(median.wallMs)}, CPU ${ms(median.cpuMs)} (routing ${ms(median.timings.routingMs)}, stage A ${ms(median.timings.stageAMs)}, ` +
        `stage B ${ms(median.timings.stageBMs)}), peak RSS ${mib(median.rssKb)}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const base = results.find((r) => r.scale === 1);
const checks = [];
if (base) checks.push({ what: 'wall time at 1× < 5 s', met: base.wallMs < TARGET_MS });
for (const r of results.filter((x) => x.scale > 1)) {
  if (base) {
    const ratio = r.wallMs / base.wallMs;
    r.ratio = ratio;
    checks.push({ what: `time at ${r.scale}× ≤ ${r.scale}× the time at 1× (${ratio.toFixed(1)}×)`, met: ratio <= r.scale });
  }
}
const largest = results.find((r) => r.scale === 100);
if (largest) checks.push({ what: `peak RSS at 100× < 1 GiB (${mib(largest.rssKb)})`, met: largest.rssKb < RSS_LIMIT_KB });

const lines = [
  HEADING,
  '',
  'Measured by `npm run bench -- local-run` (bench/local-run.mjs): `sdlf run --local --team demoteam --dataset legislators',
  '--fresh --json` on a project made by `sdlf init --yes`, one new process per run (cold: Node start, oclif, bundling of',
  'the light transform, DuckDB), timed by GNU time for wall time and peak RSS; the split per stage is what the run',
  `reports. ${runsAtScale1} run(s) at 1× (median), one at larger scales. ${nodeAndCpu()},`,
  `${loadAtStart(load)}, ${utcNow()}.`,
  '',
  '| memberships | wall (cold process) | × 1× | CPU (user+sys) | routing | stage A | stage B | peak RSS | history rows |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.scale}× (${r.memberships.toLocaleString('en-US')}) | ${ms(r.wallMs)} | ${(r.ratio ?? 1).toFixed(1)} | ${ms(r.cpuMs)} | ` +
      `${ms(r.timings.routingMs)} | ${ms(r.timings.stageAMs)} | ${ms(r.timings.stageBMs)} | ${mib(r.rssKb)} | ` +
      `${(r.tables.history ?? 0).toLocaleString('en-US')} |`,
  ),
  '',
  ...checks.map((c) => `- ${c.what}: **${c.met ? 'met' : 'missed'}**`),
  '',
  'Stage A streams each raw object through the light transform into JSON Lines (flat memory); stage B runs',
  'transform.sql in DuckDB with a 512 MB memory limit and spills to `.sdlf/local/<env>/tmp` beyond it. The rest of',
  'the wall time is process start-up, loading the project and bundling the light transform with esbuild (cached',
  'while the transform and its imports are unchanged). The work is mostly on one thread, so on an idle machine the',
  'wall time approaches the CPU time; at a high load average it is a multiple of it.',
];
writeSection(join(root, 'BENCHMARKS.md'), lines.join('\n'));
console.log(`\n${checks.map((c) => `${c.met ? 'met   ' : 'MISSED'} ${c.what}`).join('\n')}`);
console.log(`Wrote the "${HEADING}" section of BENCHMARKS.md`);
process.exit(checks.every((c) => c.met) ? 0 : 1);

/** Runs the legislators dataset once in a new process; returns wall time, peak RSS and the run's own report. */
function runOnce(project) {
  const args = ['-f', '%e %M %U %S', process.execPath, bin, 'run', '--local', '--team', 'demoteam', '--dataset', 'legislators'];
  const run = spawnSync(TIME, [...args, '--path', project, '--fresh', '--json'], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const timeLine = run.stderr.trim().split('\n').at(-1) ?? '';
  const [seconds, rss, user, system] = timeLine.split(' ').map(Number);
  if (run.status !== 0 || !Number.isFinite(seconds)) {
    console.error(run.stderr);
    throw new Error(`sdlf run --local failed (exit ${run.status})`);
  }
  const report = JSON.parse(run.stdout);
  if (report.failed > 0) throw new Error(`the run reported ${report.failed} failure(s)`);
  return {
    wallMs: Math.round(seconds * 1000),
    cpuMs: Math.round((user + system) * 1000),
    rssKb: rss,
    timings: report.timings,
    tables: Object.fromEntries(report.tables.map((t) => [t.table, t.rows])),
  };
}

function ms(value) {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value).toLocaleString('en-US')} ms`;
}

function mib(kb) {
  return `${Math.round(kb / 1024)} MiB`;
}
