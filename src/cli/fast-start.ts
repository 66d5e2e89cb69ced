// `sdlf`, `sdlf --help` and `sdlf --version` without loading @oclif/core (~100 ms of a ~160 ms start): the root help
// is rendered by oclif itself at build time (scripts/help-cache.mjs) for every width it supports, and this module
// serves it only when everything that oclif's answer depends on is what it was at build time. Anything else, and
// anything this module is unsure of, goes to oclif. It imports nothing heavier than node: builtins, and on the fast
// path the three small modules oclif itself uses for the answer (is-wsl, supports-color, ansis).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, homedir, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where the build writes the root help, relative to the package root. */
export const HELP_CACHE_PATH = join('dist', 'cli', 'help-cache.json');

/** Stands in the cached help for the `VERSION` line, which names the Node.js that runs sdlf. */
export const USER_AGENT_PLACEHOLDER = 'SDLF_USER_AGENT';

/**
 * Packages whose code renders the root help (resolved from @oclif/core as it resolves them); their versions are part
 * of the cache key, so an install that resolves another version of any of them gets oclif's own answer.
 */
export const RENDERING_PACKAGES = [
  'ansis',
  'ejs',
  'indent-string',
  'string-width',
  'supports-color',
  'widest-line',
  'wrap-ansi',
  'wsl-utils',
] as const;

/** The `oclif` keys of package.json under which oclif's root help and version are what the cache holds. */
const PLAIN_OCLIF_KEYS = new Set(['bin', 'dirname', 'commands', 'topicSeparator', 'plugins']);

/** What the cached help was rendered from: a cache whose key differs from the current one is not used. */
export interface HelpCacheKey {
  /** SHA-256 of package.json, as bytes. */
  readonly packageJson: string;
  /** SHA-256 of oclif.manifest.json, as bytes. */
  readonly manifest: string;
  /** `name@version` of @oclif/core and of each of {@link RENDERING_PACKAGES}. */
  readonly packages: readonly string[];
}

/** The root help of every width from `from` to `to` (inclusive), with its section headers' line numbers. */
export interface HelpVariant {
  readonly from: number;
  readonly to: number;
  /** What oclif writes to stdout, without colour, with {@link USER_AGENT_PLACEHOLDER} for the user agent. */
  readonly text: string;
  /** Zero-based numbers of the lines that oclif prints in bold when it prints colour. */
  readonly headers: readonly number[];
}

/** The file the build writes at {@link HELP_CACHE_PATH}. */
export interface HelpCache {
  readonly key: HelpCacheKey;
  readonly variants: readonly HelpVariant[];
}

/** The parts of a process that decide whether and how sdlf answers without oclif. */
export interface FastStartContext {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> & { getWindowSize?: () => [number, number] };
}

/**
 * Answers `sdlf`, `sdlf --help` or `sdlf --version` as oclif would, byte for byte, and returns `true`; returns
 * `false`, having written nothing, for any other argv or whenever the answer could differ from oclif's (another
 * package.json, manifest or rendering package than at build time, a width or user agent the cache does not hold,
 * oclif debug or configuration variables, a user theme or user plugins, Windows). `binUrl` is bin/run.js's URL.
 */
export async function answerWithoutOclif(
  binUrl: string,
  context: FastStartContext = { argv: process.argv.slice(2), env: process.env, stdout: process.stdout },
): Promise<boolean> {
  const { argv, env, stdout } = context;
  const kind = requestKind(argv);
  if (kind === undefined || !plainEnvironment(env) || !cwdExists()) return false;
  const os = platform();
  if (os !== 'linux' && os !== 'darwin') return false;
  const root = dirname(dirname(fileURLToPath(binUrl)));
  const pjsonText = readText(join(root, 'package.json'));
  const cacheText = readText(join(root, HELP_CACHE_PATH));
  if (pjsonText === undefined || cacheText === undefined) return false;
  const pjson = JSON.parse(pjsonText) as PackageJson;
  const cache = JSON.parse(cacheText) as HelpCache;
  const key = helpCacheKey(root, binUrl);
  if (key === undefined || JSON.stringify(key) !== JSON.stringify(cache.key)) return false;
  if (userCustomisation(pjson, env)) return false;

  const oclif = oclifRequire(binUrl);
  const userAgent = await userAgentOf(pjson, oclif);
  if (userAgent === undefined) return false;
  if (kind === 'version') {
    stdout.write(`${userAgent}\n`);
    return true;
  }
  const text = renderRootHelp(cache, helpWidth(env, stdout), userAgent, boldOf(oclif));
  if (text === undefined) return false;
  stdout.write(text);
  return true;
}

/** Says which request argv is: the root help (`[]`, `['--help']`), the version (`['--version']`), or neither. */
export function requestKind(argv: readonly string[]): 'help' | 'version' | undefined {
  if (argv.length === 0 || (argv.length === 1 && argv[0] === '--help')) return 'help';
  if (argv.length === 1 && argv[0] === '--version') return 'version';
  return undefined;
}

/**
 * Says whether no variable that changes what oclif prints for the root help or the version is set: `DEBUG` and
 * `SDLF_DEBUG` (debug lines), `SDLF_CONFIG_DIR` and `SDLF_DATA_DIR` (theme, user plugins) and every `OCLIF_*`
 * but `OCLIF_COLUMNS`, which {@link helpWidth} reads as oclif does.
 */
export function plainEnvironment(env: NodeJS.ProcessEnv): boolean {
  for (const name of ['DEBUG', 'SDLF_DEBUG', 'SDLF_CONFIG_DIR', 'SDLF_DATA_DIR']) if (env[name]) return false;
  return !Object.keys(env).some((name) => name.startsWith('OCLIF_') && name !== 'OCLIF_COLUMNS');
}

/** Computes the width oclif wraps help to, as @oclif/core's screen module does. */
export function helpWidth(env: NodeJS.ProcessEnv, stdout: FastStartContext['stdout']): number {
  const columns = Number.parseInt(env.OCLIF_COLUMNS ?? '', 10);
  if (columns) return columns;
  if (!stdout.isTTY || stdout.getWindowSize === undefined) return 80;
  const [width] = stdout.getWindowSize();
  if (width < 1) return 80;
  return Math.max(width, 40);
}

/**
 * Renders the cached root help at `width` with `userAgent` on its `VERSION` line and `bold` applied to its section
 * headers, or returns `undefined` when the cache holds no variant of that width or the user agent would not fit on
 * one line (oclif would wrap it).
 */
export function renderRootHelp(
  cache: HelpCache,
  width: number,
  userAgent: string,
  bold: (text: string) => string,
): string | undefined {
  const variant = cache.variants.find((v) => v.from <= width && width <= v.to);
  if (variant === undefined || !/^[\w@/.+ -]+$/.test(userAgent) || userAgent.length >= width - 2) return undefined;
  const lines = variant.text.split('\n');
  const placeholder = lines.indexOf(`  ${USER_AGENT_PLACEHOLDER}`);
  if (placeholder < 0 || lines.lastIndexOf(`  ${USER_AGENT_PLACEHOLDER}`) !== placeholder) return undefined;
  lines[placeholder] = `  ${userAgent}`;
  for (const header of variant.headers) lines[header] = bold(lines[header] ?? '');
  return lines.join('\n');
}

/**
 * Computes the cache key of the package at `root` (see {@link HelpCacheKey}), or `undefined` when the manifest or a
 * rendering package is missing. `binUrl` is where @oclif/core is resolved from (bin/run.js).
 */
export function helpCacheKey(root: string, binUrl: string): HelpCacheKey | undefined {
  const pjson = readBytes(join(root, 'package.json'));
  const manifest = readBytes(join(root, 'oclif.manifest.json'));
  if (pjson === undefined || manifest === undefined) return undefined;
  const core = packageVersion(createRequire(binUrl), '@oclif/core');
  if (core === undefined) return undefined;
  const fromCore = oclifRequire(binUrl);
  const packages = [core];
  for (const name of RENDERING_PACKAGES) {
    const version = packageVersion(fromCore, name);
    if (version === undefined) return undefined;
    packages.push(version);
  }
  return { packageJson: sha256(pjson), manifest: sha256(manifest), packages };
}

/** The fields of package.json that oclif's root help and version read. */
export interface PackageJson {
  name?: string;
  version?: string;
  oclif?: Record<string, unknown>;
}

/**
 * Says whether package.json configures oclif with nothing beyond a commands folder, a bin name, a topic separator
 * and no plugins: no hooks, help class, theme, state or extra help/version flags, under which the cached root help
 * and the user agent are all that oclif prints.
 */
export function plainOclifConfig(pjson: PackageJson): boolean {
  const oclif = pjson.oclif ?? {};
  if (Object.keys(oclif).some((name) => !PLAIN_OCLIF_KEYS.has(name))) return false;
  const plugins = oclif.plugins ?? [];
  return typeof oclif.commands === 'string' && Array.isArray(plugins) && plugins.length === 0;
}

/**
 * Says whether package.json configures oclif beyond {@link plainOclifConfig}, or the user has a theme or plugins
 * where oclif looks for them (`theme.json` in the config folder, `package.json` in the data folder, both found as
 * @oclif/core's Config finds them).
 */
function userCustomisation(pjson: PackageJson, env: NodeJS.ProcessEnv): boolean {
  if (!plainOclifConfig(pjson)) return true;
  const oclif = pjson.oclif ?? {};
  const dirnameOfCli = (typeof oclif.dirname === 'string' && oclif.dirname) || pjson.name || '';
  if (dirnameOfCli === '') return true;
  const home = env.HOME || homedir() || tmpdir();
  const configDir = join(env.XDG_CONFIG_HOME || join(home, '.config'), dirnameOfCli);
  const dataDir = join(env.XDG_DATA_HOME || join(home, '.local/share'), dirnameOfCli);
  return existsSync(join(configDir, 'theme.json')) || existsSync(join(dataDir, 'package.json'));
}

/** Builds oclif's user agent, `<name>/<version> <platform>-<arch> node-<version>`, as @oclif/core's Config does. */
async function userAgentOf(pjson: PackageJson, oclif: NodeJS.Require): Promise<string | undefined> {
  if (!pjson.name) return undefined;
  // oclif names the platform "wsl" under the Windows Subsystem for Linux: ask the is-wsl that its wsl-utils uses.
  const isWslPath = createRequire(oclif.resolve('wsl-utils')).resolve('is-wsl');
  const isWsl = ((await import(pathToFileURL(isWslPath).href)) as { default: boolean }).default;
  const cpu = arch() === 'ia32' ? 'x86' : arch();
  return `${pjson.name}/${pjson.version || '0.0.0'} ${isWsl ? 'wsl' : platform()}-${cpu} node-${process.version}`;
}

/** Returns what oclif's `colorize('bold', …)` does here: ansis bold when supports-color says both streams take colour. */
function boldOf(oclif: NodeJS.Require): (text: string) => string {
  const supports = oclif('supports-color') as { stdout: unknown; stderr: unknown };
  if (!supports.stdout || !supports.stderr) return (text) => text;
  const ansis = oclif('ansis') as { bold: (text: string) => string };
  return (text) => ansis.bold(text);
}

/** A require that resolves packages as @oclif/core's own code does. */
function oclifRequire(binUrl: string): NodeJS.Require {
  return createRequire(createRequire(binUrl).resolve('@oclif/core'));
}

/** `name@version` of the package `name` as `from` resolves it (first folder on its search path that holds it). */
function packageVersion(from: NodeJS.Require, name: string): string | undefined {
  for (const folder of from.resolve.paths(name) ?? []) {
    const text = readText(join(folder, name, 'package.json'));
    if (text !== undefined) return `${name}@${(JSON.parse(text) as PackageJson).version}`;
  }
  return undefined;
}

function cwdExists(): boolean {
  try {
    process.cwd();
    return true;
  } catch {
    return false;
  }
}

function readBytes(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  return readBytes(path)?.toString('utf8');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
