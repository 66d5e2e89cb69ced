import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fingerprint,
  HELP_CACHE_PATH,
  type HelpCache,
  helpWidth,
  plainEnvironment,
  plainOclifConfig,
  renderRootHelp,
  requestKind,
  USER_AGENT_PLACEHOLDER,
} from '../../src/cli/fast-start.js';
import { binPath, cliEnv, ensureBuilt } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/project.js';

// The fast path is judged against oclif itself: `reference` is bin/run.js as it was before the fast path (the
// Node.js line, then @oclif/core's execute), run with the same argv, environment and terminal. `probe` is preloaded
// into both and prints on exit whether @oclif/core was loaded, which is how a test knows which path answered.
let work: string;
let probe: string;
const references = new Map<string, string>();

beforeAll(() => {
  ensureBuilt();
  work = tempDir('sdlf-fast-start-');
  probe = join(work, 'probe.mjs');
  writeFileSync(
    probe,
    [
      "import { createRequire } from 'node:module';",
      'const cache = createRequire(import.meta.url).cache;',
      "const loaded = () => Object.keys(cache).some((k) => k.includes('/@oclif/core/'));",
      "process.on('exit', () => process.stderr.write('oclif loaded: ' + loaded() + '\\n'));",
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A script that runs the package whose bin is `bin` the way bin/run.js did before the fast path. */
function reference(bin: string): string {
  const known = references.get(bin);
  if (known !== undefined) return known;
  const binUrl = pathToFileURL(bin).href;
  const script = join(work, `reference-${references.size}.mjs`);
  writeFileSync(
    script,
    [
      `const { replaceSdkNodeWarning } = await import(${JSON.stringify(new URL('../dist/cli/node-version.js', binUrl).href)});`,
      'replaceSdkNodeWarning();',
      `const { execute } = await import(${JSON.stringify(pathToFileURL(createRequire(bin).resolve('@oclif/core')).href)});`,
      `await execute({ dir: ${JSON.stringify(binUrl)} });`,
      '',
    ].join('\n'),
  );
  references.set(bin, script);
  return script;
}

interface Run {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly oclifLoaded: boolean;
}

/** Runs `script args` without a terminal; `env` entries that are `undefined` are removed from the CLI environment. */
async function run(script: string, args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const full: Record<string, string> = cliEnv();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete full[name];
    else full[name] = value;
  }
  const result = await execa('node', ['--import', probe, script, ...args], {
    reject: false,
    extendEnv: false,
    env: full,
    cwd: work,
    stdin: 'ignore',
    stripFinalNewline: false,
  });
  const stderr = String(result.stderr);
  const marker = /oclif loaded: (true|false)\n$/.exec(stderr);
  if (marker === null) throw new Error(`no probe line in stderr:\n${stderr}`);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: stderr.slice(0, marker.index),
    oclifLoaded: marker[1] === 'true',
  };
}

/** Runs `sdlf args` and oclif on the same input; returns both. */
async function both(args: readonly string[], env: Record<string, string | undefined> = {}, bin = binPath) {
  const [fast, oclif] = await Promise.all([run(bin, args, env), run(reference(bin), args, env)]);
  expect(oclif.oclifLoaded).toBe(true);
  return { fast, oclif };
}

const cache = (): HelpCache => JSON.parse(readFileSync(join(repoRoot, HELP_CACHE_PATH), 'utf8')) as HelpCache;

describe('requestKind', () => {
  it.each([
    [[], 'help'],
    [['--help'], 'help'],
    [['--version'], 'version'],
    [['-h'], undefined],
    [['-v'], undefined],
    [['help'], undefined],
    [['--help', 'init'], undefined],
    [['init', '--help'], undefined],
    [['--version', '--help'], undefined],
    [['--'], undefined],
  ] as const)('says %j is %s', (argv, kind) => {
    expect(requestKind(argv)).toBe(kind);
  });
});

describe('plainEnvironment', () => {
  it.each([
    [{}, true],
    [{ OCLIF_COLUMNS: '60', SDLF_PATH: '.', NO_COLOR: '1', NODE_ENV: 'test' }, true],
    [{ DEBUG: '*' }, false],
    [{ DEBUG: '' }, true],
    [{ SDLF_DEBUG: '1' }, false],
    [{ SDLF_CONFIG_DIR: '/x' }, false],
    [{ SDLF_DATA_DIR: '/x' }, false],
    [{ OCLIF_NEXT_VERSION: '1' }, false],
    [{ OCLIF_DISABLE_RC: '1' }, false],
  ])('says %j is %s', (env, plain) => {
    expect(plainEnvironment(env)).toBe(plain);
  });
});

describe('helpWidth', () => {
  const pipe = { isTTY: false, write: () => true };
  const tty = (columns: number) => ({ ...pipe, isTTY: true, getWindowSize: (): [number, number] => [columns, 24] });
  it.each([
    ['OCLIF_COLUMNS=60 on a pipe', { OCLIF_COLUMNS: '60' }, pipe, 60],
    ['OCLIF_COLUMNS=20 on a terminal of 100', { OCLIF_COLUMNS: '20' }, tty(100), 20],
    ['OCLIF_COLUMNS=abc on a pipe', { OCLIF_COLUMNS: 'abc' }, pipe, 80],
    ['OCLIF_COLUMNS=0 on a terminal of 100', { OCLIF_COLUMNS: '0' }, tty(100), 100],
    ['a pipe', {}, pipe, 80],
    ['a terminal of 120', {}, tty(120), 120],
    ['a terminal of 30', {}, tty(30), 40],
    ['a terminal of 0', {}, tty(0), 80],
  ])('is what oclif uses with %s', (_name, env, stdout, width) => {
    expect(helpWidth(env, stdout)).toBe(width);
  });
});

describe('renderRootHelp', () => {
  const agent = 'sdlf/0.1.0 linux-x64 node-v22.1.0';

  it('puts the user agent on the VERSION line and bolds only the section headers', () => {
    const text = renderRootHelp(cache(), 80, agent, (header) => `<b>${header}</b>`);
    expect(text).toContain(`<b>VERSION</b>\n  ${agent}\n\n<b>USAGE</b>\n  $ sdlf [COMMAND]\n\n<b>COMMANDS</b>\n`);
    expect(text).not.toContain(USER_AGENT_PLACEHOLDER);
    expect(text?.match(/<b>/g)).toHaveLength(3);
  });

  it.each([
    ['below the widths held', 39, agent],
    ['above the widths held', 1001, agent],
    ['a user agent that would wrap', 40, `${agent}-with-a-long-suffix`],
    ['a user agent with template characters', 80, 'sdlf/<%= 1 %> linux-x64 node-v22.1.0'],
  ])('renders nothing for %s', (_name, width, userAgent) => {
    expect(renderRootHelp(cache(), width, userAgent, (h) => h)).toBeUndefined();
  });
});

describe('fingerprint', () => {
  it('changes with any one byte of the manifest, and not without one', () => {
    // Given the built manifest, and copies of it with one byte changed or one added
    const manifest = readFileSync(join(repoRoot, 'oclif.manifest.json'));
    const seen = new Set([fingerprint(manifest)]);
    for (const at of [0, 1, Math.floor(manifest.length / 2), manifest.length - 1]) {
      const changed = Buffer.from(manifest);
      changed[at] = (changed[at] ?? 0) ^ 1;
      seen.add(fingerprint(changed));
    }
    seen.add(fingerprint(Buffer.concat([manifest, Buffer.from(' ')])));
    // Then every fingerprint differs, and the same bytes give the same one
    expect(seen.size).toBe(6);
    expect(fingerprint(Buffer.from(manifest))).toBe(fingerprint(manifest));
  });
});

describe('plainOclifConfig', () => {
  it.each([
    [{ oclif: { bin: 'sdlf', commands: './dist/commands', plugins: [] } }, true],
    [{ oclif: { bin: 'sdlf', commands: './dist/commands', hooks: { init: './x.js' } } }, false],
    [{ oclif: { bin: 'sdlf', commands: './dist/commands', plugins: ['@oclif/plugin-plugins'] } }, false],
    [{ oclif: { bin: 'sdlf', commands: './dist/commands', additionalHelpFlags: ['-h'] } }, false],
    [{ oclif: { bin: 'sdlf', commands: { strategy: 'single', target: './x.js' } } }, false],
  ])('says %j is %s', (pjson, plain) => {
    expect(plainOclifConfig(pjson)).toBe(plain);
  });
});

describe('sdlf without oclif', () => {
  it.each([
    [[], '60'],
    [[], '80'],
    [[], '120'],
    [[], undefined],
    [['--help'], '60'],
    [['--help'], '80'],
    [['--help'], '120'],
    [['--help'], undefined],
    [['--version'], '60'],
    [['--version'], undefined],
  ])('answers %j at OCLIF_COLUMNS=%s byte for byte as oclif does, without loading it', async (args, columns) => {
    // Given the built package, when sdlf and oclif answer the same argv at the same width (none: a pipe, 80)
    const { fast, oclif } = await both(args, { OCLIF_COLUMNS: columns });
    // Then the output, the stderr and the exit code are oclif's, and oclif was not loaded
    expect(fast.stdout).toBe(oclif.stdout);
    expect(fast.stderr).toBe(oclif.stderr);
    expect(fast.exitCode).toBe(oclif.exitCode);
    expect(fast.oclifLoaded).toBe(false);
    expect(fast.stdout).toMatch(args[0] === '--version' ? /^sdlf\/\S+ \S+-\S+ node-v/ : /\nCOMMANDS\n {2}add-dataset {2}/);
  });

  it.each([
    ['FORCE_COLOR=1', { FORCE_COLOR: '1', NO_COLOR: undefined }],
    ['FORCE_COLOR=1 and NO_COLOR=1 (supports-color says yes, ansis no)', { FORCE_COLOR: '1' }],
  ])('prints the colour oclif prints with %s', async (_name, env) => {
    const { fast, oclif } = await both(['--help'], env);
    expect(fast.stdout).toBe(oclif.stdout);
    expect(fast.oclifLoaded).toBe(false);
  });

  it('prints what oclif prints on a terminal of 100 columns, bold headers included', async () => {
    // Given a pseudo-terminal (script(1)) of 100 columns, and no NO_COLOR or CI (under CI, supports-color turns colour off)
    const env = cliEnv();
    delete env.NO_COLOR;
    delete env.CI;
    const onTerminal = (script: string) =>
      execFileSync('script', ['-qec', `stty cols 100 rows 30; exec node --import ${probe} ${script}`, '/dev/null'], {
        env,
        cwd: work,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    // When sdlf and oclif print the root help there
    const fast = onTerminal(binPath);
    const oclif = onTerminal(reference(binPath));
    // Then both print the same bytes, and only oclif's run loaded oclif
    expect(fast.replace('oclif loaded: false', 'oclif loaded: true')).toBe(oclif);
    expect(fast).toContain('oclif loaded: false');
    expect(fast).toContain('\u001b[1mCOMMANDS\u001b[22m');
    expect(fast).toMatch(/^ {2}bootstrap {10}Bootstrap an environment's account and region for the CDK, and set up Lake\r$/m);
  });
});

describe('sdlf with oclif', () => {
  it.each([
    ['-h', ['-h'], {}],
    ['an unknown command', ['nope'], {}],
    ["a command's help", ['validate', '--help'], {}],
    ['help for a command', ['--help', 'validate'], {}],
    ['--version with more', ['--version', 'extra'], {}],
    ['a width the cache does not hold', ['--help'], { OCLIF_COLUMNS: '1001' }],
    ['a width below the cache', [], { OCLIF_COLUMNS: '30' }],
    ['DEBUG set', ['--version'], { DEBUG: 'sdlf:nothing' }],
    ['an OCLIF_ variable set', ['--help'], { OCLIF_DISABLE_RC: '1' }],
  ])('leaves %s to oclif, unchanged', async (_name, args, env: Record<string, string>) => {
    const { fast, oclif } = await both(args, env);
    expect(fast.oclifLoaded).toBe(true);
    expect(fast.stdout).toBe(oclif.stdout);
    expect(fast.stderr).toBe(oclif.stderr);
    expect(fast.exitCode).toBe(oclif.exitCode);
  });

  it('leaves the help to oclif when the user has a theme or plugins where oclif looks for them', async () => {
    // Given a theme.json in the config folder oclif reads (XDG_CONFIG_HOME/sdlf), and a data folder with a package.json
    const config = join(work, 'config');
    const data = join(work, 'data');
    mkdirSync(join(config, 'sdlf'), { recursive: true });
    mkdirSync(join(data, 'sdlf'), { recursive: true });
    writeFileSync(join(config, 'sdlf', 'theme.json'), JSON.stringify({ sectionHeader: 'red' }));
    writeFileSync(join(data, 'sdlf', 'package.json'), JSON.stringify({ private: true }));
    // When sdlf prints its help with either, then oclif answers, in colour for the theme
    const themed = await both(['--help'], { XDG_CONFIG_HOME: config, FORCE_COLOR: '1', NO_COLOR: undefined });
    expect(themed.fast.oclifLoaded).toBe(true);
    expect(themed.fast.stdout).toBe(themed.oclif.stdout);
    expect(themed.fast.stdout).toContain('\u001b[31m');
    const plugged = await both(['--version'], { XDG_DATA_HOME: data });
    expect(plugged.fast.oclifLoaded).toBe(true);
    expect(plugged.fast.stdout).toBe(plugged.oclif.stdout);
  });
});

describe('a stale help cache', () => {
  /** A copy of the package whose package.json and manifest `edit` changes after the build; dist/ is the build's. */
  function editedPackage(
    edit: (pjson: Record<string, unknown>, manifest: ManifestJson) => void,
    editCache: (text: string) => string = (text) => text,
  ): string {
    const root = tempDir('sdlf-stale-');
    mkdirSync(join(root, 'bin'));
    copyFileSync(binPath, join(root, 'bin', 'run.js'));
    mkdirSync(join(root, 'dist'));
    for (const entry of readdirSync(join(repoRoot, 'dist'))) {
      if (entry !== 'cli') symlinkSync(join(repoRoot, 'dist', entry), join(root, 'dist', entry));
    }
    cpSync(join(repoRoot, 'dist', 'cli'), join(root, 'dist', 'cli'), { recursive: true });
    const cacheFile = join(root, HELP_CACHE_PATH);
    writeFileSync(cacheFile, editCache(readFileSync(cacheFile, 'utf8')));
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
    const pjson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as ManifestJson;
    const [pjsonBefore, manifestBefore] = [JSON.stringify(pjson), JSON.stringify(manifest)];
    edit(pjson, manifest);
    // An untouched file is copied byte for byte; an edited one is written anew.
    if (JSON.stringify(pjson) === pjsonBefore) copyFileSync(join(repoRoot, 'package.json'), join(root, 'package.json'));
    else writeFileSync(join(root, 'package.json'), JSON.stringify(pjson, null, 2));
    if (JSON.stringify(manifest) === manifestBefore) {
      copyFileSync(join(repoRoot, 'oclif.manifest.json'), join(root, 'oclif.manifest.json'));
    } else writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(manifest));
    return join(root, 'bin', 'run.js');
  }
  interface ManifestJson {
    version: string;
    commands: Record<string, { summary?: string }>;
  }

  it('cannot print an old summary: a changed manifest sends the help to oclif', async () => {
    // Given a package whose manifest changed after the cache was written
    const bin = editedPackage((_pjson, manifest) => {
      const init = manifest.commands.init;
      if (init === undefined) throw new Error('the manifest has no init command');
      init.summary = 'A summary the cache has never seen.';
    });
    // When sdlf prints its help, then oclif answers with the new summary
    const { fast, oclif } = await both(['--help'], { OCLIF_COLUMNS: '120' }, bin);
    expect(fast.stdout).toBe(oclif.stdout);
    expect(fast.stdout).toMatch(/^ {2}init +A summary the cache has never seen\.$/m);
    expect(fast.oclifLoaded).toBe(true);
  });

  it('leaves sdlf to oclif when the cache cannot be read', async () => {
    // Given a package whose help cache was cut short
    const bin = editedPackage(
      () => {},
      (text) => text.slice(0, 100),
    );
    // When sdlf prints its help, then oclif answers
    const { fast, oclif } = await both([], {}, bin);
    expect(fast.stdout).toBe(oclif.stdout);
    expect(fast.stderr).toBe(oclif.stderr);
    expect(fast.oclifLoaded).toBe(true);
  });

  it('serves the cache from an unchanged copy of the package (the copy is a fair test)', async () => {
    const { fast, oclif } = await both(
      ['--help'],
      {},
      editedPackage(() => {}),
    );
    expect(fast.stdout).toBe(oclif.stdout);
    expect(fast.oclifLoaded).toBe(false);
  });

  it('cannot print an old version: a changed package.json sends --version and the help to oclif', async () => {
    // Given a package whose version (package.json and manifest) changed after the cache was written
    const bin = editedPackage((pjson, manifest) => {
      pjson.version = '9.8.7';
      manifest.version = '9.8.7';
    });
    // When sdlf prints its version and its help, then oclif answers with the new version
    for (const args of [['--version'], []]) {
      const { fast, oclif } = await both(args, {}, bin);
      expect(fast.stdout).toBe(oclif.stdout);
      expect(fast.stdout).toContain('sdlf/9.8.7 ');
      expect(fast.oclifLoaded).toBe(true);
    }
  });
});
