// Helpers the benchmarks share: the repository root, medians, the machine description and the BENCHMARKS.md
// writers. Not a benchmark itself: bench/run.mjs skips it.
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** Returns the median of `values` (the mean of the two middle values for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Describes this machine for a section: `Node v…, N × <CPU model>`. */
export function nodeAndCpu() {
  const cpu = cpus();
  return `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}`;
}

/** Describes the load when a benchmark started: `load average 1.23 at the start`. */
export function loadAtStart(load = loadavg()[0]) {
  return `load average ${load.toFixed(2)} at the start`;
}

/** Returns the current time as `YYYY-MM-DD HH:MM UTC`. */
export function utcNow() {
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Replaces the `## ` section of a markdown file that starts with the same heading as `text`, or appends it; other sections stay as they are. */
export function writeSection(file, text) {
  const heading = text.split('\n', 1)[0];
  const current = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nMeasured on the machine that ran `npm run bench`; each section says how.\n';
  const lines = current.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  let next;
  if (start < 0) next = `${current.trimEnd()}\n\n${text}`;
  else {
    const after = lines.findIndex((line, i) => i > start && /^## /.test(line));
    const tail = after < 0 ? '' : `\n${lines.slice(after).join('\n')}`;
    next = `${lines.slice(0, start).join('\n').trimEnd()}\n\n${text}${tail}`;
  }
  writeFileSync(file, `${next.trimEnd()}\n`);
}

/**
 * Replaces the `### ` subsection that starts like `text` inside the `section` (`## …`) of a markdown file, or
 * appends it to that section (creating the section at the end when missing). Other sections stay as they are.
 */
export function writeSubsection(file, section, text) {
  const heading = text.split('\n', 1)[0];
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const lines = current.trimEnd().split('\n');
  let start = lines.findIndex((line) => line.trim() === section);
  if (start < 0) {
    lines.push('', section, '');
    start = lines.length - 2;
  }
  let end = lines.findIndex((line, i) => i > start && /^## /.test(line));
  if (end < 0) end = lines.length;
  const body = lines.slice(start + 1, end);
  const from = body.findIndex((line) => line.trim() === heading);
  if (from < 0) {
    while (body.length > 0 && body.at(-1)?.trim() === '') body.pop();
    body.push('', ...text.trimEnd().split('\n'), '');
  } else {
    let to = body.findIndex((line, i) => i > from && /^### /.test(line));
    if (to < 0) to = body.length;
    body.splice(from, to - from, ...text.trimEnd().split('\n'), '');
  }
  const next = [...lines.slice(0, start + 1), ...body, ...lines.slice(end)].join('\n');
  writeFileSync(file, `${next.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`);
}

/**
 * Writes the records of a one-element-per-line JSON array (as the sample generator writes them) in other layouts:
 * `jsonl` as JSON Lines, `csv` as CSV with the header from the first record. Either may be left out.
 */
export async function writeOtherLayouts(array, { jsonl, csv }) {
  const jsonOut = jsonl ? createWriteStream(jsonl) : undefined;
  const csvOut = csv ? createWriteStream(csv) : undefined;
  let columns;
  const cell = (value) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  for await (const line of createInterface({ input: createReadStream(array), crlfDelay: Number.POSITIVE_INFINITY })) {
    const text = line.trim().replace(/,$/, '');
    if (!text.startsWith('{')) continue;
    const record = JSON.parse(text);
    if (!columns) {
      columns = Object.keys(record);
      csvOut?.write(`${columns.join(',')}\n`);
    }
    if (jsonOut && !jsonOut.write(`${text}\n`)) await once(jsonOut, 'drain');
    if (csvOut && !csvOut.write(`${columns.map((c) => cell(record[c])).join(',')}\n`)) await once(csvOut, 'drain');
  }
  const outs = [jsonOut, csvOut].filter(Boolean);
  for (const out of outs) out.end();
  await Promise.all(outs.map((out) => once(out, 'finish')));
}
