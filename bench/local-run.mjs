// Measures `sdlf run --local` on the legislators demo against its floor, DuckDB alone running the same
// transform.sql over the same raw files (bench/floor/duckdb-alone.mjs), side by side in one run: the two
// alternate, each run a new process, timed by /usr/bin/time for wall time and peak RSS. sdlf runs with --fresh
// (an empty local lake, so every stage runs). At 1× the wall time must be < 5 s; at 30× and 100× sdlf should take
// at most 1.5× the floor, and stay under 1 GiB of peak RSS at 100×. Writes the "## Local run" section of
// BENCHMARKS.md. Usage: node bench/local-run.mjs [--scales 1,10,30,100] [--runs 3]   (needs `npm run build` first)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
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
  options: { scales: { type: 'string', default: '1,10,30,100' }, runs: { type: 'string', default: '3' } },
});
const scales = values.scales.split(',').map(Number);
const runsPerScale = Number(values.runs);
const FLOOR_RATIO = 1.5;
if (scales.some((s) => !Number.isInteger(s) || s < 1) || !Number.isInteger(runsPerScale) || runsPerScale < 1) {
  console.error('Usage: node bench/local-run.mjs [--scales 1,10,30,100] [--runs 3]');
  process.exit(2);
}
for (const file of [join(root, 'dist', 'commands', 'run.js'), join(root, 'dist', 'samples', 'legislators.js')]) {
  if (!existsSync(file)) {
    console.error(`${file} is missing: run "npm run build" first.`);
    process.exit(2);
  }
}
if (spawnSync(TIME, ['-f', '%e', 'true'], { stdio: 'ignore' }).status !== 0) {
  console.error(`${TIME} (GNU time) is missing: install it (apt-get install -y time) and re-run.`);
  process.exit(2);
}
const { writeLegislatorsSample, LEGISLATORS_COUNTS } = await import(join(root, 'dist', 'samples', 'legislators.js'));

const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', NO_COLOR: '1' };
const load = loadavg()[0];
const work = mkdtempSync(join(tmpdir(), 'sdlf-bench-local-'));
const results = [];
try {
  execFileSync(process.execPath, [bin, 'init', 'bench', '--yes', '--path', work], { env, stdio: 'ignore' });
  const project = join(work, 'bench');
  const data = join(project, 'data', 'demoteam', 'legislators');
  const sql = join(project, 'transforms', 'heavy', 'sdlf_heavy_transform', 'transform.sql');
  for (const scale of scales) {
    await writeLegislatorsSample(data, { scale });
    // 100× runs twice: each pair takes about a minute, and the point there is the ratio and memory.
    const runs = scale >= 100 ? Math.min(2, runsPerScale) : runsPerScale;
    const samples = [];
    const floors = [];
    for (let i = 0; i < runs; i++) {
      samples.push(runOnce(project));
      floors.push(floorOnce(data, sql, join(work, `floor-${scale}-${i}`)));
    }
    const median = medianOf(samples);
    const floor = medianOf(floors);
    if (sorted(floor.tables) !== sorted(median.tables))
      throw new Error(`at ${scale}× DuckDB alone wrote ${JSON.stringify(floor.tables)}, sdlf ${JSON.stringify(median.tables)}`);
    results.push({ scale, memberships: LEGISLATORS_COUNTS.memberships * scale, runs, ...median, floor });
    console.log(
      `${scale}×: wall ${ms(median.wallMs)} vs DuckDB alone ${ms(floor.wallMs)} (${(median.wallMs / floor.wallMs).toFixed(2)}×), ` +
        `routing ${ms(median.timings.routingMs)}, stage A ${ms(median.timings.stageAMs)}, stage B ${ms(median.timings.stageBMs)}, ` +
        `peak RSS ${mib(median.rssKb)} vs ${mib(floor.rssKb)}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const base = results.find((r) => r.scale === 1);
const checks = [];
if (base) checks.push({ what: 'wall time at 1× < 5 s', met: base.wallMs < TARGET_MS });
for (const r of results) r.ratio = r.wallMs / r.floor.wallMs;
for (const r of results.filter((x) => x.scale >= 30)) {
  checks.push({
    what: `at ${r.scale}×, at most ${FLOOR_RATIO}× DuckDB alone (${r.ratio.toFixed(2)}×)`,
    met: r.ratio <= FLOOR_RATIO,
  });
}
const largest = results.find((r) => r.scale === 100);
if (largest) checks.push({ what: `peak RSS at 100× < 1 GiB (${mib(largest.rssKb)})`, met: largest.rssKb < RSS_LIMIT_KB });

const lines = [
  HEADING,
  '',
  'Measured by `npm run bench -- local-run` (bench/local-run.mjs): `sdlf run --local --team demoteam --dataset legislators',
  '--fresh --json` on a project made by `sdlf init --yes`, against DuckDB alone running the same transform.sql over the',
  'same raw files and writing the same tables as Parquet (bench/floor/duckdb-alone.mjs: a view per raw file, nothing',
  'staged, no metadata), alternating, one new process per run (cold: Node start; for sdlf also oclif, loading the',
  'project and the cached light-transform bundle), timed by GNU time for wall time and peak RSS; the split per stage',
  `is what the run reports. Median of ${runsPerScale} run(s) of each below 100×, of ${Math.min(2, runsPerScale)} at 100×; both wrote the same row`,
  `counts at every scale. ${nodeAndCpu()}, ${loadAtStart(load)}, ${utcNow()}.`,
  '',
  '| memberships (raw MB) | sdlf wall | DuckDB alone | ratio | CPU (user+sys) | routing | stage A | stage A MB/s | stage B | peak RSS (sdlf / DuckDB) | history rows |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.scale}× (${r.memberships.toLocaleString('en-US')}; ${(r.rawBytes / 1e6).toFixed(0)} MB) | ${ms(r.wallMs)} | ${ms(r.floor.wallMs)} | ${r.ratio.toFixed(2)} | ${ms(r.cpuMs)} | ` +
      `${ms(r.timings.routingMs)} | ${ms(r.timings.stageAMs)} | ${(r.rawBytes / 1e6 / (r.timings.stageAMs / 1000)).toFixed(0)} | ${ms(r.timings.stageBMs)} | ` +
      `${mib(r.rssKb)} / ${mib(r.floor.rssKb)} | ${(r.tables.history ?? 0).toLocaleString('en-US')} |`,
  ),
  '',
  ...checks.map((c) => `- ${c.what}: **${c.met ? 'met' : 'missed'}**`),
  '',
  'Stage A streams each raw object through the light transform into JSON Lines (flat memory); stage B runs',
  'transform.sql in DuckDB with a 512 MB memory limit and spills to `.sdlf/local/<env>/tmp` beyond it. Routing',
  'copies each input into the local raw bucket; its MD5 comes from `.sdlf/local/<env>/cache` when the file is',
  'unchanged since an earlier run (the first run at each scale hashes it, the medians are reruns). What sdlf does',
  'beyond the floor is stage A: reading every record in JavaScript, running the light transform on it and staging',
  'it as JSON Lines, which is what the stage A Lambda does on AWS; DuckDB alone reads the raw files directly.',
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
    rawBytes: readdirSync(join(project, 'data', 'demoteam', 'legislators'))
      .filter((name) => name.endsWith('.json'))
      .reduce((sum, name) => sum + statSync(join(project, 'data', 'demoteam', 'legislators', name)).size, 0),
  };
}

/** Runs DuckDB alone once in a new process; returns wall time, peak RSS and the rows of each table. */
function floorOnce(data, sql, out) {
  const run = spawnSync(
    TIME,
    ['-f', '%e %M', process.execPath, join(root, 'bench', 'floor', 'duckdb-alone.mjs'), data, sql, out],
    {
      env,
      encoding: 'utf8',
    },
  );
  const [seconds, rss] = (run.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  if (run.status !== 0 || !Number.isFinite(seconds)) {
    console.error(run.stderr);
    throw new Error(`DuckDB alone failed (exit ${run.status})`);
  }
  rmSync(out, { recursive: true, force: true });
  return { wallMs: Math.round(seconds * 1000), rssKb: rss, tables: JSON.parse(run.stdout) };
}

function sorted(tables) {
  return JSON.stringify(Object.entries(tables).sort(([a], [b]) => a.localeCompare(b)));
}

function medianOf(samples) {
  return [...samples].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((samples.length - 1) / 2)];
}

function ms(value) {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value).toLocaleString('en-US')} ms`;
}

function mib(kb) {
  return `${Math.round(kb / 1024)} MiB`;
}
