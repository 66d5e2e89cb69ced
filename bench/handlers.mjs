// Lambda handler bundles: size and cold import time of each, with the AWS SDK bundled (what the build ships) and
// with `@aws-sdk/*` left external (what the Lambda runtime could provide). A bundle is a folder: the entry
// (index.mjs) and its chunks, some imported at start, the others on demand. Writes the "### Handler cold start"
// part of the "## Runtime" section of BENCHMARKS.md.
// Targets, for the shipped (SDK bundled) bundles: import under 100 ms and folder size under 1.5 MB each. Exits 1
// when one is missed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { loadAtStart, median, nodeAndCpu, root, utcNow, writeSubsection } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** When the run started, and the load then: the section reports these, not the state once the runs are done. */
const runStart = { time: utcNow(), load: loadAtStart() };
const TARGET_MS = 100;
const TARGET_BYTES = 1.5 * 1024 * 1024;
const PREBUILT = ['routing', 'stage-a-trigger', 'step', 'stage-b-trigger'];

if (
  !PREBUILT.every((name) => existsSync(join(root, 'dist', 'handlers', name, 'index.mjs'))) ||
  !existsSync(join(root, 'dist', 'bundling'))
) {
  console.log('dist/ is incomplete: building first');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--no-manifest'], { cwd: root, stdio: 'inherit' });
}
const { bundleLightTransform } = await import(pathToFileURL(join(root, 'dist', 'bundling', 'index.js')).href);
const { LAMBDA_BUNDLE_OPTIONS } = await import(pathToFileURL(join(root, 'dist', 'bundling', 'options.js')).href);

// Bundles with the SDK external must resolve it from this package's node_modules, as a Lambda resolves it from
// its runtime: keep them inside the repository.
const work = join(root, 'node_modules', '.cache', 'sdlf-bench-handlers');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** The environment every handler checks at cold start (values are never used: nothing is called). */
const env = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  SDLF_PREFIX: 'ddk',
  SDLF_ENV: 'dev',
  SDLF_OBJECT_METADATA_TABLE: 't',
  SDLF_DATASETS_TABLE: 't',
  SDLF_PIPELINES_TABLE: 't',
  SDLF_EXECUTION_HISTORY_TABLE: 't',
  SDLF_EXECUTION_TTL_DAYS: '30',
  SDLF_TEAM: 'demoteam',
  SDLF_DATASET: 'legislators',
  SDLF_PIPELINE: 'standard',
  SDLF_STAGE_A_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
  SDLF_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:s',
  SDLF_STAGE_BUCKET: 'stage',
  SDLF_ANALYTICS_BUCKET: 'analytics',
  SDLF_ARTIFACTS_BUCKET: 'artifacts',
  SDLF_STAGE_A_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/1/dlq.fifo',
};

// The light-transform handler with the default transform of `sdlf init`, bundled as the CDK app bundles it.
const project = mkdtempSync(join(tmpdir(), 'sdlf-bench-project-'));
const template = readFileSync(
  join(root, 'src', 'templates', 'dataset', 'transforms', 'light', '{{stageATransform}}.ts.hbs'),
  'utf8',
);
mkdirSync(join(project, 'transforms', 'light'), { recursive: true });
writeFileSync(
  join(project, 'transforms', 'light', 'sdlf_light_transform.ts'),
  template.replaceAll('{{stageATransform}}', 'sdlf_light_transform'),
);
const lightDir = await bundleLightTransform({
  projectRoot: project,
  transform: 'sdlf_light_transform',
  cacheDir: join(work, 'light-cache'),
});

/** Node options of a function, as its Lambda runs it: the light transform maps its errors to the user's source. */
const nodeArgsOf = (name) => (name === 'light-transform' ? ['--enable-source-maps'] : []);

const bundled = [
  ...PREBUILT.map((name) => ({ name, file: join(root, 'dist', 'handlers', name, 'index.mjs') })),
  { name: 'light-transform', file: join(lightDir, 'index.mjs') },
];

// The same bundles with @aws-sdk/* external: the shipped bundles' esbuild options plus `external`.
const external = [];
for (const { name } of bundled) {
  const outdir = join(work, 'external', name);
  const entry =
    name === 'light-transform'
      ? join(root, 'dist', 'runtime', 'handlers', 'light-transform', 'handler.js')
      : join(root, 'src', 'runtime', 'handlers', name, 'handler.ts');
  const { sdlfPackagePlugin } = await import(pathToFileURL(join(root, 'dist', 'bundling', 'index.js')).href);
  await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    entryPoints: [{ in: entry, out: 'index' }],
    outdir,
    external: ['@aws-sdk/*'],
    logLevel: 'error',
    plugins: [
      sdlfPackagePlugin(),
      {
        name: 'user-transform',
        setup(b) {
          b.onResolve({ filter: /^sdlf:user-transform$/ }, () => ({
            path: join(project, 'transforms', 'light', 'sdlf_light_transform.ts'),
          }));
        },
      },
    ],
  });
  external.push({ name, file: join(outdir, 'index.mjs') });
}

/**
 * Imports a bundle's entry in a fresh node process and returns the time in ms, as measured inside it. With
 * `then`, the files imported right after the entry are included in the time.
 */
function importOnce(file, then = [], nodeArgs = []) {
  const urls = JSON.stringify(then.map((f) => pathToFileURL(f).href));
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});for(const u of ${urls})await import(u);process.stdout.write(String(performance.now()-t));`;
  const run = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`importing ${file} failed:\n${run.stderr}`);
  return Number(run.stdout);
}

/** Every timing of this run, taken together by {@link takeTimings}. */
const timings = [];

/**
 * Registers a timing of `take` (a function returning ms) and returns it; {@link takeTimings} fills in its median,
 * min and max.
 */
function timing(take) {
  const entry = { take, times: [] };
  timings.push(entry);
  return entry;
}

/** Registers the timing of importing `file` (then `then`) in fresh node processes started with `nodeArgs`. */
function time(file, then = [], nodeArgs = []) {
  return timing(() => importOnce(file, then, nodeArgs));
}

/**
 * Takes every registered timing: one warm-up each (the file system cache), then RUNS rounds that each take every
 * timing once, so a burst of load from elsewhere on the machine spreads over all of them instead of skewing one.
 */
function takeTimings() {
  for (const entry of timings) entry.take();
  for (let run = 0; run < RUNS; run++) for (const entry of timings) entry.times.push(entry.take());
  for (const entry of timings) {
    Object.assign(entry, { median: median(entry.times), min: Math.min(...entry.times), max: Math.max(...entry.times) });
  }
}

/** Every file of a bundle's folder. */
function filesOf(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => statSync(path).isFile());
}

/** The entry and the chunks it imports statically, transitively: what is loaded before the handler runs. */
function loadedAtStart(entry) {
  const seen = new Set();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    // Static imports of an esbuild chunk: `import…from"./x.mjs"` or `import"./x.mjs"`; `import("./x.mjs")` is on demand.
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      pending.push(join(dirname(file), match[1]));
    }
  }
  return [...seen];
}

const bytesOf = (files) => files.reduce((sum, file) => sum + statSync(file).size, 0);

/** Sizes and import times of a bundle's folder (source maps count in its size; only modules are imported). */
function measure(file, nodeArgs) {
  const dir = dirname(file);
  const all = filesOf(dir);
  const atStart = loadedAtStart(file);
  const onDemand = all.filter((f) => f.endsWith('.mjs') && !atStart.includes(f)).sort();
  return {
    import: time(file, [], nodeArgs),
    bytes: bytesOf(all),
    files: all.length,
    startBytes: bytesOf(atStart),
    startFiles: atStart.length,
    ...(onDemand.length > 0 ? { everything: time(file, onDemand, nodeArgs) } : {}),
  };
}

// Context for a loaded machine: the wall time of `node -e 0` and the import time of an empty module, measured
// the same way in the same run.
const empty = join(work, 'empty.mjs');
writeFileSync(empty, 'export {};\n');
const baselineImport = time(empty);
const nodeStart = timing(() => {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - started;
});

const rows = bundled.map(({ name, file }) => ({
  name,
  shipped: measure(file, nodeArgsOf(name)),
  sdkExternal: measure(external.find((e) => e.name === name).file, nodeArgsOf(name)),
}));
takeTimings();
console.log(`node -e 0: ${nodeStart.median.toFixed(1)} ms; empty module import: ${baselineImport.median.toFixed(1)} ms`);
for (const { name, shipped, sdkExternal } of rows) {
  console.log(
    `${name.padEnd(16)} bundled ${kb(shipped.bytes)} (${kb(shipped.startBytes)} at start) ${shipped.import.median.toFixed(1)} ms` +
      `${shipped.everything ? `, every chunk ${shipped.everything.median.toFixed(1)} ms` : ''}` +
      ` | SDK external ${kb(sdkExternal.startBytes)} at start ${sdkExternal.import.median.toFixed(1)} ms`,
  );
}
rmSync(project, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });

const missed = rows.filter((r) => r.shipped.import.median >= TARGET_MS || r.shipped.bytes >= TARGET_BYTES);
const section = [
  '### Handler cold start',
  '',
  `Measured by \`npm run bench -- handlers\` (bench/handlers.mjs): each bundle imported in ${RUNS} fresh \`node\``,
  'processes after one warm-up, import time measured inside the process (node start-up excluded), median (min–max);',
  'the runs go round by round over every bundle, so load from elsewhere on the machine spreads over all of them.',
  `${nodeAndCpu()}, ${runStart.load},`,
  `${runStart.time}. "Bundled" is what the build ships (\`dist/handlers/<name>\`; the`,
  'light-transform bundle as the CDK app builds it with the default transform); "SDK external" is the same code',
  'with `@aws-sdk/*` left to the runtime. A bundle is a folder, the Lambda asset: `index.mjs` and its `chunks/`.',
  '"At start" is the entry and the chunks it imports statically, what node compiles before the handler runs; the',
  "other chunks are imported on demand: the SDK's credential providers other than environment variables (never",
  'used on Lambda) and the clients a handler creates on first use (the step function: S3, SQS, SSM; the stage B',
  'trigger: DynamoDB, S3, Step Functions; see the handlers). "Import, every chunk" imports the entry, then every',
  'other chunk of the folder: more than any invocation loads, an upper bound of a cold start on a path that needs',
  'every client created on first use. "SDK external: at start" counts the bundle\'s own files, not the SDK the',
  'runtime would provide.',
  '',
  '| handler | bundled: folder size | bundled: at start | bundled: import | bundled: import ÷ `node -e 0` | bundled: import, every chunk | SDK external: at start | SDK external: import |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${kb(r.shipped.bytes)} (${r.shipped.files} files) | ${kb(r.shipped.startBytes)} (${r.shipped.startFiles} files) | ${ms(r.shipped.import)} | ${(r.shipped.import.median / nodeStart.median).toFixed(2)} | ${r.shipped.everything ? ms(r.shipped.everything) : '—'} | ${kb(r.sdkExternal.startBytes)} | ${ms(r.sdkExternal.import)} |`,
  ),
  '',
  `Same run, for scale: \`node -e 0\` takes ${ms(nodeStart)} of wall time and importing an empty module ${ms(baselineImport)}.`,
  'The ratio to `node -e 0` (medians of the same run) moves less with the load of the machine than the times do; the',
  'targets are judged on the measured medians.',
  '',
  `Targets for the shipped bundles: import under ${TARGET_MS} ms and folder size under 1.5 MB each — **${missed.length === 0 ? 'met' : `missed by ${missed.map((m) => m.name).join(', ')}`}**.`,
  verdict(rows),
  '',
].join('\n');
writeSubsection(join(root, 'BENCHMARKS.md'), '## Runtime', section);
console.log('Wrote "### Handler cold start" in the "## Runtime" section of BENCHMARKS.md');
process.exit(missed.length === 0 ? 0 : 1);

/** States, from the figures, whether bundling the SDK pays off. */
function verdict(measured) {
  const faster = measured.filter((r) => r.shipped.import.median < r.sdkExternal.import.median).length;
  const mean = (pick) => measured.reduce((sum, r) => sum + pick(r), 0) / measured.length;
  const ratio = mean((r) => r.sdkExternal.import.median) / mean((r) => r.shipped.import.median);
  return faster === measured.length
    ? `Bundling the SDK is faster for every handler (SDK external takes ${ratio.toFixed(2)}× as long on average) and pins the SDK version the tests ran against, so the build bundles it.`
    : `Bundling the SDK is faster for ${faster} of ${measured.length} handlers (SDK external takes ${ratio.toFixed(2)}× as long on average); the build bundles it to pin the SDK version the tests ran against.`;
}

function kb(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${Math.round(bytes / 1024)} KB`;
}

function ms(m) {
  return `${m.median.toFixed(1)} ms (${m.min.toFixed(0)}–${m.max.toFixed(0)})`;
}
