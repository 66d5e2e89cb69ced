// Light transform throughput and memory: the default light transform of `sdlf init`, run by the pipeline core's
// `processObject` on a filesystem object store (the one `sdlf run --local` uses), over legislators-shaped JSON
// Lines files of ~10 MB and ~100 MB. Each size runs in its own node process so its peak RSS is its own.
// Writes the "### Light transform throughput" part of the "## Runtime" section of BENCHMARKS.md.
// Target: streaming, i.e. the 100 MB run's peak RSS at most 1.5× the 10 MB run's. Exits 1 when missed.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAtStart, nodeAndCpu, root, utcNow, writeSubsection } from './lib.mjs';

const dist = (...parts) => pathToFileURL(join(root, 'dist', ...parts)).href;
const SIZES_MB = [10, 100];
const MAX_GROWTH = 1.5;

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
const { renderLegislatorsSample } = await import(dist('examples', 'legislators.js'));
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
  const runs = [];
  for (const mb of SIZES_MB) {
    const dir = join(work, `${mb}mb`);
    const key = 'demoteam/legislators/persons.jsonl';
    mkdirSync(join(dir, 'raw', 'demoteam', 'legislators'), { recursive: true });
    const file = join(dir, 'raw', key);
    await writeJsonLines(file, persons, mb * 1024 * 1024);
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run', dir, key, bundle], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) throw new Error(`the ${mb} MB run failed:\n${child.stderr}`);
    const figures = JSON.parse(child.stdout);
    const run = { mb, bytes: statSync(file).size, ...figures };
    console.log(
      `${mb} MB: ${run.records} records in ${run.seconds.toFixed(2)} s = ${Math.round(run.records / run.seconds)} rows/s, ` +
        `${(run.bytes / 1024 / 1024 / run.seconds).toFixed(1)} MB/s, peak RSS ${(run.peakRss / 1024 / 1024).toFixed(0)} MB`,
    );
    runs.push(run);
    rmSync(dir, { recursive: true, force: true });
  }

  const [small, large] = runs;
  const growth = large.peakRss / small.peakRss;
  const met = growth <= MAX_GROWTH;
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
    ...runs.map(
      (r) =>
        `| ${mib(r.bytes)} JSON Lines | ${r.records.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} s | ${Math.round(r.records / r.seconds).toLocaleString('en-US')} | ${(r.bytes / 1024 / 1024 / r.seconds).toFixed(1)} | ${mib(r.peakRss)} |`,
    ),
    '',
    `Memory stays flat: ${large.mb / small.mb}× the input takes ${growth.toFixed(2)}× the peak RSS (target ≤ ${MAX_GROWTH}×) — **${met ? 'met' : 'missed'}**.`,
    'Records are parsed line by line and written to the staged object through a bounded stream, so memory holds one',
    'write buffer per table, whatever the size of the object.',
    '',
  ].join('\n');
  writeSubsection(join(root, 'BENCHMARKS.md'), '## Runtime', section);
  console.log('Wrote "### Light transform throughput" in the "## Runtime" section of BENCHMARKS.md');
  process.exitCode = met ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
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
