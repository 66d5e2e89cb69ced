// Writes dist/cli/help-cache.json: the root help (`sdlf`, `sdlf --help`) as @oclif/core renders it for every width
// from MIN_WIDTH to MAX_WIDTH, which bin/run.js prints without loading oclif (src/cli/fast-start.ts says when).
// Renders in two child processes, without and with colour, and checks that colour is only bold section headers.
// Writes no file, and so leaves every start to oclif, when package.json configures oclif beyond plain commands.
// Usage: node scripts/help-cache.mjs   (after tsc and `oclif manifest`; scripts/build.mjs runs it)
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';

const MIN_WIDTH = 40;
const MAX_WIDTH = 1000;
const root = fileURLToPath(new URL('..', import.meta.url));
const binUrl = pathToFileURL(join(root, 'bin', 'run.js')).href;
const fastStart = await import(pathToFileURL(join(root, 'dist', 'cli', 'fast-start.js')).href);
const target = join(root, fastStart.HELP_CACHE_PATH);

if (process.argv[2] === '--render') {
  // A child: prints {width: text} as oclif writes it for `sdlf --help`, colour as this process's FORCE_COLOR says.
  const { Config, loadHelpClass } = await import('@oclif/core');
  const config = await Config.load(fileURLToPath(binUrl));
  config.userAgent = fastStart.USER_AGENT_PLACEHOLDER;
  const Help = await loadHelpClass(config);
  const texts = {};
  for (let width = MIN_WIDTH; width <= MAX_WIDTH; width++) {
    const help = new Help(config, { maxWidth: width });
    let text = '';
    // What Help.log does: ux.stdout(args), which is console.log(format(...args)).
    help.log = (...args) => {
      text += `${format(...args)}\n`;
    };
    await help.showHelp(['--help']);
    texts[width] = text;
  }
  const [open, close] = (await import('ansis')).default.bold('\u0001').split('\u0001');
  await new Promise((resolve) => process.stdout.write(JSON.stringify({ texts, bold: { open, close } }), resolve));
  process.exit(0);
}

rmSync(target, { force: true });
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (!fastStart.plainOclifConfig(pjson)) {
  process.stderr.write('help-cache: package.json configures oclif beyond plain commands; every start goes to oclif\n');
  process.exit(0);
}
const key = fastStart.helpCacheKey(root, binUrl);
if (key === undefined) throw new Error('help-cache: oclif.manifest.json or a package that renders help is missing');

const render = (forceColor) => {
  const env = { ...process.env, FORCE_COLOR: forceColor };
  for (const name of Object.keys(env)) if (name.startsWith('OCLIF_') || name === 'NO_COLOR' || name === 'DEBUG') delete env[name];
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--render'], {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out);
};
const mono = render('0');
const colour = render('1');
const { open, close } = colour.bold;
if (!open || !close) throw new Error('help-cache: FORCE_COLOR=1 gave no bold escape codes');

const variants = [];
for (let width = MIN_WIDTH; width <= MAX_WIDTH; width++) {
  const text = mono.texts[width];
  const lines = text.split('\n');
  const coloured = colour.texts[width].split('\n');
  if (coloured.length !== lines.length) throw new Error(`help-cache: width ${width}: colour changes the line count`);
  const headers = [];
  lines.forEach((line, i) => {
    if (coloured[i] === line) return;
    if (coloured[i] !== `${open}${line}${close}`) throw new Error(`help-cache: width ${width}, line ${i}: not bold only`);
    headers.push(i);
  });
  if (lines.filter((line) => line === `  ${fastStart.USER_AGENT_PLACEHOLDER}`).length !== 1) {
    throw new Error(`help-cache: width ${width}: the user agent is not on one line of its own`);
  }
  const last = variants.at(-1);
  if (last && last.text === text && last.headers.join() === headers.join()) last.to = width;
  else variants.push({ from: width, to: width, text, headers });
}
writeFileSync(target, `${JSON.stringify({ key, variants })}\n`);
process.stderr.write(`help-cache: ${variants.length} root help variant(s) for widths ${MIN_WIDTH}–${MAX_WIDTH}\n`);
