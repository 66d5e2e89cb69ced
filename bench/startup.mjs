// CLI start-up: `sdlf --help` and `sdlf --version` against `node -e 0`, measured with hyperfine in one run so the
// ratios compare like with like. Writes the "## CLI start-up" section of BENCHMARKS.md.
// Target: `sdlf --help` takes at most 2× `node -e 0`. Exits 1 when the target is missed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAtStart, nodeAndCpu, root, utcNow, writeSection } from './lib.mjs';

const TARGET = 2;
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 5;

ensureHyperfine();
if (!existsSync(join(root, 'oclif.manifest.json')) || !existsSync(join(root, 'dist', 'commands'))) {
  console.log('dist/ or oclif.manifest.json is missing: building first');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

const node = process.execPath;
const bin = join(root, 'bin', 'run.js');
const commands = [
  { label: '`node -e 0`', command: `${node} -e 0` },
  { label: '`sdlf --help`', command: `${node} ${bin} --help` },
  { label: '`sdlf --version`', command: `${node} ${bin} --version` },
  // A command's help is oclif's to answer: the figure for every start that the fast path leaves to oclif.
  { label: '`sdlf validate --help`', command: `${node} ${bin} validate --help` },
];
const work = mkdtempSync(join(tmpdir(), 'sdlf-bench-'));
const report = join(work, 'hyperfine.json');
const run = spawnSync(
  'hyperfine',
  [
    '--shell=none',
    '--warmup',
    String(WARMUP),
    '--runs',
    String(RUNS),
    '--style',
    'basic',
    '--export-json',
    report,
    ...commands.map((c) => c.command),
  ],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } },
);
if (run.status !== 0) {
  console.error(`hyperfine failed (exit ${run.status})`);
  process.exit(1);
}
const { results } = JSON.parse(readFileSync(report, 'utf8'));
rmSync(work, { recursive: true, force: true });

const ms = (seconds) => `${(seconds * 1000).toFixed(1)} ms`;
const baseline = results[0].mean;
const rows = results.map((r, i) => ({
  label: commands[i].label,
  mean: r.mean,
  stddev: r.stddev ?? 0,
  min: r.min,
  ratio: r.mean / baseline,
}));
const help = rows[1];
const met = help.ratio <= TARGET;
const section = [
  '## CLI start-up',
  '',
  `Measured by \`npm run bench -- startup\` (bench/startup.mjs): hyperfine ${hyperfineVersion()}, ${WARMUP} warm-up runs and`,
  `${RUNS} runs per command, no shell, all four commands in one run. ${nodeAndCpu()},`,
  `${loadAtStart()}, ${utcNow()}.`,
  '',
  '| command | mean | σ | min | × `node -e 0` |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${ms(r.mean)} | ${ms(r.stddev)} | ${ms(r.min)} | ${r.ratio.toFixed(2)} |`),
  '',
  `Target: \`sdlf --help\` at most ${TARGET}× \`node -e 0\` — **${met ? 'met' : 'missed'}** (${help.ratio.toFixed(2)}×).`,
  '',
  'How it stays fast: `sdlf`, `sdlf --help` and `sdlf --version` do not load `@oclif/core` (~100 ms alone). The',
  'build renders the root help with oclif for every width from 40 to 1000 columns (`dist/cli/help-cache.json`,',
  'scripts/help-cache.mjs), and bin/run.js prints it only when package.json, `oclif.manifest.json` and the',
  'packages that render help are byte for byte or version for version what they were at build time, the width is',
  'one the cache holds, and no oclif debug or configuration variable, user theme or user plugin is set; anything',
  'else goes to oclif. For the commands, the oclif manifest lets oclif answer without loading any command module;',
  'commands import their service, and services import handlebars, `@inquirer/prompts`, aws-cdk-lib and the CDK',
  'toolkit only when they run. On Node.js 22.1 and later, bin/run.js turns on the module compile cache.',
  '',
].join('\n');
writeSection(join(root, 'BENCHMARKS.md'), section);
console.log(
  `\nsdlf --help: ${ms(help.mean)} = ${help.ratio.toFixed(2)}× node -e 0 (${ms(baseline)}); target ≤ ${TARGET}×: ${met ? 'met' : 'MISSED'}`,
);
console.log(`sdlf --version: ${ms(rows[2].mean)} = ${rows[2].ratio.toFixed(2)}× node -e 0`);
console.log('Wrote the "## CLI start-up" section of BENCHMARKS.md');
process.exit(met ? 0 : 1);

function hyperfineVersion() {
  return execFileSync('hyperfine', ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^hyperfine /, '');
}

function ensureHyperfine() {
  if (spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status === 0) return;
  console.log('hyperfine is missing: installing it with apt-get');
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const install = spawnSync(
    sudo[0] ?? 'apt-get',
    [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', 'hyperfine'],
    {
      stdio: 'inherit',
    },
  );
  if (install.status !== 0) {
    console.error('Could not install hyperfine; install it (apt-get install -y hyperfine) and re-run.');
    process.exit(1);
  }
}
