// Light transform throughput and memory: the default light transform of `sdlf init`, run by the pipeline core's
// `processObject` on a filesystem object store (the one `sdlf run --local` uses): over the sample's memberships at
// 100× as a JSON array (as the sample writes it), JSON Lines and CSV of the same records (target ≥ 60 MB/s for
// the JSON array), and over legislators-shaped JSON Lines persons of ~10 MB and ~100 MB (memory must stay flat).
// Each input runs in its own node process so its peak RSS is its own.
// Writes the "### Light transform throughput" part of the "## Runtime" section of BENCHMARKS.md.
// Target: streaming, i.e. the 100 MB run's peak RSS at most 1.5× the 10 MB run's. Exits 1 when missed.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAtStart, nodeAndCpu, root, utcNow, writeOtherLayouts, writeSubsection } from './lib.mjs';

const dist = (...parts) => pathToFileURL(join(root, 'dist', ...parts)).href;
const SIZES_MB = [10, 100];
const MAX_GROWTH = 1.5;
const MIN_ARRAY_MB_S = 60;
const MEMBERSHIPS_SCALE = 100;

// Child mode: run one transform and report figures as JSON on stdout.
if (process.argv[2] === '--run') {
  const [, , , dir, key, bundle] = process.argv;
  const { processObject } = await import(dist('runtime', 'core', 'stage-a.js'));
  const { createLocalObjectStore } = await import(dist('local', 'object-store.js'));
  const transform = (await import(pathToFileURL(bundle).href)).default;
  const store = createLocalObjectStore({ buckets: { raw: { dir: join(dir, 'raw') }, stage: { dir: join(dir, 'stage') } } });
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const logger = { info() {}, warn() {}, error() {}, debug() {} };
  const started = performance.now();
  const result = await processObject(
    { bucket: 'raw', key, team: 'demoteam', dataset: 'legislators', executionId: 'a-bench' },
    transform,
    { store, logger },
    { stageBucket: 'stage', env: 'bench' },
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  const records = result.outputs.reduce((sum, o) => sum + o.records, 0);
  process.stdout.write(JSON.stringify({ records, seconds, peakRss: peak, outputs: result.outputs.length }));
  process.exit(0);
}

if (
  !existsSync(join(root, 'dist', 'runtime', 'core', 'stage-a.js')) ||
  !existsSync(join(root, 'dist', 'local', 'object-store.js'))
) {
  console.log('dist/ is incomplete: building first');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--no-manifest'], { cwd: root, stdio: 'inherit' });
}
const { renderLegislatorsSample, writeLegislatorsSample } = await import(dist('samples', 'legislators.js'));
const { sdlfPackagePlugin } = await import(dist('bundling', 'index.js'));
const { ESM_REQUIRE_BANNER } = await import(dist('bundling', 'options.js'));
const { build } = await import('esbuild');

const work = mkdtempSync(join(tmpdir(), 'sdlf-bench-light-'));
try {
  // The default transform, bundled as the CDK app bundles it (sdlf/transform resolved to this package).
  const template = readFileSync(
    join(root, 'src', 'templates', 'dataset', 'transforms', 'light', '{{stageATransform}}.ts.hbs'),
    'utf8',
  );
  const source = join(work, 'sdlf_light_transform.ts');
  writeFileSync(source, template.replaceAll('{{stageATransform}}', 'sdlf_light_transform'));
  const bundle = join(work, 'transform.mjs');
  await build({
    entryPoints: [source],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [sdlfPackagePlugin()],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'error',
  });

  // Legislators-shaped persons (nested links, identifiers, other names, contact details) from the sample
  // generator, repeated with fresh ids until the file reaches its size.
  const persons = renderLegislatorsSample()
    .find((file) => file.path === 'persons.json')
    .contents.split('\n')
    .map((line) => line.trim().replace(/,$/, ''))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  // The memberships of the sample at 100×, in the three layouts, one record per line as the sample writes them.
  const formats = [];
  {
    const dir = join(work, 'memberships');
    const raw = join(dir, 'raw', 'demoteam', 'legislators');
    await writeLegislatorsSample(raw, { scale: MEMBERSHIPS_SCALE });
    for (const name of ['persons.json', 'organizations.json', 'regions.json']) rmSync(join(raw, name));
    await writeOtherLayouts(join(raw, 'memberships.json'), {
      jsonl: join(raw, 'memberships.jsonl'),
      csv: join(raw, 'memberships.csv'),
    });
    for (const [label, file] of [
      ['JSON array', 'memberships.json'],
      ['JSON Lines', 'memberships.jsonl'],
      ['CSV', 'memberships.csv'],
    ]) {
      const key = `demoteam/legislators/${file}`;
      const figures = runChild(dir, key, bundle, label);
      const run = { label, bytes: statSync(join(raw, file)).size, ...figures };
      console.log(`memberships ${MEMBERSHIPS_SCALE}× ${label}: ${describeRun(run)}`);
      formats.push(run);
      rmSync(join(dir, 'stage'), { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  }

  const runs = [];
  for (const mb of SIZES_MB) {
    const dir = join(work, `${mb}mb`);
    const key = 'demoteam/legislators/persons.jsonl';
    mkdirSync(join(dir, 'raw', 'demoteam', 'legislators'), { recursive: true });
    const file = join(dir, 'raw', key);
    await writeJsonLines(file, persons, mb * 1024 * 1024);
    const figures = runChild(dir, key, bundle, `${mb} MB`);
    const run = { mb, bytes: statSync(file).size, ...figures };
    console.log(`${mb} MB: ${describeRun(run)}`);
    runs.push(run);
    rmSync(dir, { recursive: true, force: true });
  }

  const [small, large] = runs;
  const growth = large.peakRss / small.peakRss;
  const array = formats.find((f) => f.label === 'JSON array');
  const arrayMbS = array.bytes / 1e6 / array.seconds;
  const met = growth <= MAX_GROWTH && arrayMbS >= MIN_ARRAY_MB_S;
  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  const section = [
    '### Light transform throughput',
    '',
    'Measured by `npm run bench -- light-transform` (bench/light-transform.mjs): the default light transform of',
    '`sdlf init` (read records, flatten, one table per file), bundled as the CDK app bundles it, run by the core',
    '`processObject` on the filesystem object store of `sdlf run --local`, over legislators-shaped JSON Lines',
    "(the sample generator's persons, repeated with fresh ids); each size in a fresh node process, RSS sampled every",
    `5 ms. ${nodeAndCpu()}, ${loadAtStart()},`,
    `${utcNow()}.`,
    '',
    '| input | records | time | rows/s | MB/s | peak RSS |',
    '|---|---:|---:|---:|---:|---:|',
    ...formats.map(
      (r) =>
        `| memberships at ${MEMBERSHIPS_SCALE}×, ${mib(r.bytes)} ${r.label} | ${r.records.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} s | ${Math.round(r.records / r.seconds).toLocaleString('en-US')} | ${(r.bytes / 1e6 / r.seconds).toFixed(1)} | ${mib(r.peakRss)} |`,
    ),
    ...runs.map(
      (r) =>
        `| persons, ${mib(r.bytes)} JSON Lines | ${r.records.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} s | ${Math.round(r.records / r.seconds).toLocaleString('en-US')} | ${(r.bytes / 1e6 / r.seconds).toFixed(1)} | ${mib(r.peakRss)} |`,
    ),
    '',
    `MB are 10⁶ bytes. Stage A reads the ${MEMBERSHIPS_SCALE}× memberships JSON array at ${arrayMbS.toFixed(1)} MB/s (target ≥ ${MIN_ARRAY_MB_S}) — **${arrayMbS >= MIN_ARRAY_MB_S ? 'met' : 'missed'}**.`,
    `Memory stays flat: ${large.mb / small.mb}× the input takes ${growth.toFixed(2)}× the peak RSS (target ≤ ${MAX_GROWTH}×) — **${growth <= MAX_GROWTH ? 'met' : 'missed'}**.`,
    'JSON is parsed by `JSON.parse` one record at a time: JSON Lines by line, a JSON array by a scan for where each',
    'element ends (skipped when the elements are one per line); CSV by papaparse. Records go to the staged object',
    'through a bounded stream, encoded into 256 KiB buffers, so memory holds one write buffer per table, whatever the',
    'size of the object. The CSV holds the same records in fewer bytes, so its MB/s is lower at the same rows/s.',
    '',
  ].join('\n');
  writeSubsection(join(root, 'BENCHMARKS.md'), '## Runtime', section);
  console.log('Wrote "### Light transform throughput" in the "## Runtime" section of BENCHMARKS.md');
  process.exitCode = met ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Runs one input in a child process; returns its figures. */
function runChild(dir, key, bundle, label) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run', dir, key, bundle], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`the ${label} run failed:\n${child.stderr}`);
  return JSON.parse(child.stdout);
}

function describeRun(run) {
  return (
    `${run.records} records in ${run.seconds.toFixed(2)} s = ${Math.round(run.records / run.seconds)} rows/s, ` +
    `${(run.bytes / 1e6 / run.seconds).toFixed(1)} MB/s, peak RSS ${(run.peakRss / 1024 / 1024).toFixed(0)} MB`
  );
}

/** Writes JSON Lines of `records`, cycled with fresh ids, until the file holds at least `bytes`. */
async function writeJsonLines(file, records, bytes) {
  const stream = createWriteStream(file);
  let written = 0;
  let round = 0;
  while (written < bytes) {
    let chunk = '';
    for (const record of records) {
      chunk += `${JSON.stringify({ ...record, id: `${record.id}-${round}` })}\n`;
    }
    round++;
    written += Buffer.byteLength(chunk);
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}
