#!/usr/bin/env node
// Writes the legislators sample (persons.json, memberships.json, organizations.json, regions.json) into a folder.
// Usage: node examples/legislators/generate.mjs <dir> [--scale N] [--seed N]
// Needs the built package (npm run build): it runs dist/samples/legislators.js.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const usage = 'Usage: node examples/legislators/generate.mjs <dir> [--scale N] [--seed N]';
const module = new URL('../../dist/samples/legislators.js', import.meta.url);
if (!existsSync(module)) {
  console.error('dist/ is missing: run "npm run build" first.');
  process.exit(2);
}
const { writeLegislatorsSample, LEGISLATORS_COUNTS } = await import(module.href);

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { scale: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (positionals.length !== 1) {
  console.error(`Expected one output folder, got ${positionals.length}.\n${usage}`);
  process.exit(2);
}
const number = (name) => {
  const text = values[name];
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    console.error(`--${name} "${text}" is not a whole number.\n${usage}`);
    process.exit(2);
  }
  return Number(text);
};

const scale = number('scale') ?? 1;
const started = Date.now();
try {
  const paths = await writeLegislatorsSample(positionals[0], { scale, seed: number('seed') });
  for (const path of paths) console.log(path);
  console.error(
    `wrote ${LEGISLATORS_COUNTS.persons} persons, ${LEGISLATORS_COUNTS.memberships * scale} memberships, ` +
      `${LEGISLATORS_COUNTS.organizations} organizations, ${LEGISLATORS_COUNTS.regions} regions in ${Date.now() - started} ms`,
  );
} catch (error) {
  console.error(error.message);
  process.exit(error.name === 'SdlfError' ? 2 : 1);
}
