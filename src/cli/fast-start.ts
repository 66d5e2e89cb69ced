// `sdlf`, `sdlf --help` and `sdlf --version` without loading @oclif/core (~100 ms of a ~160 ms start): the root help
// is rendered by oclif itself at build time (scripts/help-cache.mjs) for every width it supports, and this module
// serves it only when everything that oclif's answer depends on is what it was at build time. Anything else, and
// anything this module is unsure of, goes to oclif. It imports no more than a few node: builtins (not node:crypto,
// ~5 ms), and on the fast path the small modules oclif itself uses for the answer (supports-color, ansis; is-wsl
// only where the platform could be WSL).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, homedir, platform, release, tmpdir } from 'node:os';
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
  /** {@link fingerprint} of package.json. */
  readonly packageJson: string;
  /** {@link fingerprint} of oclif.manifest.json. */
  readonly manifest: string;
  /** `name@version` of @oclif/core, of each of {@link RENDERING_PACKAGES} and of the is-wsl that wsl-utils uses. */
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
  try {
    return await answer(binUrl, context);
  } catch {
    // An unreadable cache, a package that does not resolve…: oclif answers, and reports what is wrong if it must.
    return false;
  }
}

async function answer(binUrl: string, context: FastStartContext): Promise<boolean> {
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
  const userAgent = await userAgentOf(pjson, oclif, key);
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
  const isWsl = packageVersion(createRequire(fromCore.resolve('wsl-utils')), 'is-wsl');
  if (isWsl === undefined) return undefined;
  packages.push(isWsl);
  return { packageJson: fingerprint(pjson), manifest: fingerprint(manifest), packages };
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
async function userAgentOf(pjson: PackageJson, oclif: NodeJS.Require, key: HelpCacheKey): Promise<string | undefined> {
  if (!pjson.name) return undefined;
  const knownWslCheck = key.packages.includes(KNOWN_IS_WSL);
  const isWsl = (!knownWslCheck || mayBeWsl()) && (await wslAccordingToOclif(oclif));
  const cpu = arch() === 'ia32' ? 'x86' : arch();
  return `${pjson.name}/${pjson.version || '0.0.0'} ${isWsl ? 'wsl' : platform()}-${cpu} node-${process.version}`;
}

/** The is-wsl whose checks {@link mayBeWsl} repeats; with any other version, sdlf asks is-wsl itself. */
const KNOWN_IS_WSL = 'is-wsl@3.1.1';

/**
 * Says whether is-wsl ({@link KNOWN_IS_WSL}) could answer yes: it does only on Linux with "microsoft" in the
 * kernel release or /proc/version, or with WSL's interop or run paths; elsewhere sdlf need not load it (~4 ms).
 */
function mayBeWsl(): boolean {
  if (platform() !== 'linux') return false;
  if (release().toLowerCase().includes('microsoft')) return true;
  if (readText('/proc/version')?.toLowerCase().includes('microsoft')) return true;
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL');
}

/** Asks the is-wsl that oclif's wsl-utils uses whether this is WSL, as oclif does to name the platform "wsl". */
async function wslAccordingToOclif(oclif: NodeJS.Require): Promise<boolean> {
  const isWslPath = createRequire(oclif.resolve('wsl-utils')).resolve('is-wsl');
  return ((await import(pathToFileURL(isWslPath).href)) as { default: boolean }).default;
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

/**
 * Fingerprints a file's bytes: its length and a 64-bit cyrb53-style hash. It guards against a stale cache (a file
 * changed after the build), not against forgery, and costs a fraction of loading node:crypto.
 */
export function fingerprint(bytes: Uint8Array): string {
  let h1 = 0xdeadbeef ^ bytes.length;
  let h2 = 0x41c6ce57 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    h1 = Math.imul(h1 ^ byte, 2654435761);
    h2 = Math.imul(h2 ^ byte, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `${bytes.length}:${hex(h2)}${hex(h1)}`;
}
