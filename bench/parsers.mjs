// Why stage A reads records the way it does: parse-only throughput of candidate readers from the npm registry on
// the same records (the sample's memberships at 30×: a JSON array one element per line, and the same records as
// CSV), each run in a fresh node process, the candidates taking turns, median of 3. Candidates are installed at
// pinned versions into a temporary folder, not into the project; sdlf's own reader runs from dist/. A reader
// qualifies only if it streams (flat memory) and says where a malformed record is.
// Writes the "### Record readers" part of the "## Runtime" section of BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAtStart, median, nodeAndCpu, root, utcNow, writeOtherLayouts, writeSubsection } from './lib.mjs';

const CANDIDATES = {
  'stream-json': '1.9.1',
  '@streamparser/json': '0.0.26',
  'csv-parse': '6.2.1',
  'csv-parser': '3.2.1',
  papaparse: '5.7.1',
  udsv: '0.7.3',
};
const RUNS = 3;

/** Each reader: which input, whether it qualifies (and why not), and how it counts the records of a file. */
const READERS = {
  'sdlf (scan + JSON.parse)': {
    input: 'json',
    note: 'streams; line and column of a malformed record',
    async read(file, _load, count) {
      const { readRecords } = await import(pathToFileURL(join(root, 'dist', 'runtime', 'transform', 'index.js')).href);
      for await (const _ of readRecords({ key: 'memberships.json', body: () => createReadStream(file) })) count();
    },
  },
  'stream-json StreamArray (defaults)': {
    input: 'json',
    note: 'streams; the reader stage A had before',
    async read(file, load, count) {
      const { default: StreamArray } = await load('stream-json/streamers/StreamArray.js');
      for await (const _ of createReadStream(file).pipe(StreamArray.withParser())) count();
    },
  },
  '@streamparser/json (paths $.*)': {
    input: 'json',
    note: 'streams',
    async read(file, load, count) {
      const module = await load('@streamparser/json');
      const JSONParser = module.JSONParser ?? module.default.JSONParser;
      const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
      parser.onValue = () => count();
      for await (const chunk of createReadStream(file)) parser.write(chunk);
    },
  },
  'sdlf (papaparse, with line numbers)': {
    input: 'csv',
    note: 'streams; line of a malformed row',
    async read(file, _load, count) {
      const { readRecords } = await import(pathToFileURL(join(root, 'dist', 'runtime', 'transform', 'index.js')).href);
      for await (const _ of readRecords({ key: 'memberships.csv', body: () => createReadStream(file) })) count();
    },
  },
  'csv-parse (columns)': {
    input: 'csv',
    note: 'streams; the reader stage A had before',
    async read(file, load, count) {
      const module = await load('csv-parse');
      const parse = module.parse ?? module.default.parse;
      for await (const _ of createReadStream(file).pipe(parse({ columns: true, bom: true, skip_empty_lines: true }))) count();
    },
  },
  'csv-parser': {
    input: 'csv',
    note: 'streams',
    async read(file, load, count) {
      const { default: csv } = await load('csv-parser');
      for await (const _ of createReadStream(file).pipe(csv())) count();
    },
  },
  'papaparse (header, step)': {
    input: 'csv',
    note: 'streams; reports too many / too few fields and unclosed quotes',
    async read(file, load, count) {
      const { default: Papa } = await load('papaparse');
      await new Promise((resolve, reject) =>
        Papa.parse(Readable.from(createReadStream(file, 'utf8')), {
          header: true,
          skipEmptyLines: true,
          step: () => count(),
          complete: resolve,
          error: reject,
        }),
      );
    },
  },
  'udsv (stringObjs)': {
    input: 'csv',
    note: 'does not qualify: malformed rows parse silently ("1,2,3" under the header "a,b" gives b = "2,3")',
    async read(file, load, count) {
      const module = await load('udsv');
      const { inferSchema, initParser } = module.initParser ? module : module.default;
      let parser;
      for await (const chunk of createReadStream(file, 'utf8')) {
        parser ??= initParser(inferSchema(chunk));
        parser.chunk(chunk, parser.stringObjs, () => count());
      }
      parser.end();
    },
  },
};

// Child mode: read one file with one reader; print the records and seconds.
if (process.argv[2] === '--run') {
  const [, , , name, file, modules] = process.argv;
  const require = createRequire(join(modules, 'package.json'));
  const load = (specifier) => import(pathToFileURL(require.resolve(specifier)).href);
  let records = 0;
  const started = performance.now();
  await READERS[name].read(file, load, () => {
    records++;
  });
  process.stdout.write(JSON.stringify({ records, seconds: (performance.now() - started) / 1000 }));
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'sdlf-bench-parsers-'));
try {
  writeFileSync(join(work, 'package.json'), '{"private":true}\n');
  const specs = Object.entries(CANDIDATES).map(([name, version]) => `${name}@${version}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], { cwd: work, stdio: 'ignore' });
  const { writeLegislatorsSample } = await import(pathToFileURL(join(root, 'dist', 'samples', 'legislators.js')).href);
  await writeLegislatorsSample(join(work, 'data'), { scale: 30 });
  const files = { json: join(work, 'data', 'memberships.json'), csv: join(work, 'memberships.csv') };
  await writeOtherLayouts(files.json, { csv: files.csv });
  const samples = Object.fromEntries(Object.keys(READERS).map((name) => [name, []]));
  let records;
  for (let round = 0; round < RUNS; round++) {
    for (const [name, reader] of Object.entries(READERS)) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run', name, files[reader.input], work], {
        encoding: 'utf8',
      });
      if (child.status !== 0) throw new Error(`${name} failed:\n${child.stderr}`);
      const figures = JSON.parse(child.stdout);
      records ??= figures.records;
      if (figures.records !== records) throw new Error(`${name} read ${figures.records} records, not ${records}`);
      samples[name].push(figures.seconds);
    }
  }
  const rows = Object.entries(READERS).map(([name, reader]) => {
    const seconds = median(samples[name]);
    const bytes = statSync(files[reader.input]).size;
    return { name, reader, seconds, mbs: bytes / 1e6 / seconds, bytes };
  });
  for (const row of rows) console.log(`${row.name}: ${row.seconds.toFixed(2)} s, ${row.mbs.toFixed(0)} MB/s`);
  const section = [
    '### Record readers',
    '',
    "Measured by `npm run bench -- parsers` (bench/parsers.mjs): parse-only, counting the records of the sample's",
    `memberships at 30× (${records.toLocaleString('en-US')} records) as a one-element-per-line JSON array and as CSV, each run in a fresh node`,
    `process, the readers taking turns, median of ${RUNS}. ${nodeAndCpu()}, ${loadAtStart()}, ${utcNow()}.`,
    '',
    '| reader | input | time | MB/s | |',
    '|---|---|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${(r.bytes / 1e6).toFixed(0)} MB ${r.reader.input === 'json' ? 'JSON array' : 'CSV'} | ${r.seconds.toFixed(2)} s | ${r.mbs.toFixed(0)} | ${r.reader.note} |`,
    ),
    '',
    'JSON: the scan finds where each record ends (with `indexOf` through strings, or nothing at all when the records',
    'are one per line) and `JSON.parse` makes the record natively; token-by-token parsers build every string from',
    'start/chunk/end events in JavaScript. CSV: papaparse is the fastest parser that still refuses malformed rows;',
    'sdlf adds line numbers and backpressure around it, and refuses a header that names a column twice.',
    '',
  ].join('\n');
  writeSubsection(join(root, 'BENCHMARKS.md'), '## Runtime', section);
  console.log('Wrote "### Record readers" in the "## Runtime" section of BENCHMARKS.md');
} finally {
  rmSync(work, { recursive: true, force: true });
}
