import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SdlfError } from '../core/errors.js';

/** The folder of the running sdlf package (the one holding its package.json). */
export const SDLF_PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folder of a project that holds the vendored sdlf tarball. */
export const VENDOR_DIR = 'vendor';

/** Where the running sdlf came from, and so how a project made by it depends on it. */
export type SdlfOrigin =
  /** Installed by npm from a registry: the project depends on the semver range of this version. */
  | { readonly kind: 'registry'; readonly resolved: string }
  /** A clone, or a tarball no registry serves: the project gets this sdlf packed into `vendor/`. */
  | { readonly kind: 'local'; readonly reason: string };

/** How a new project depends on sdlf. */
export interface SdlfDependency {
  /** The spec written in the project's package.json (`^0.1.0`, `file:vendor/sdlf-0.1.0.tgz`, or the override). */
  readonly spec: string;
  /** Why this spec: `registry`, `vendored` or `override`. */
  readonly source: 'registry' | 'vendored' | 'override';
  /** The project-relative path of the vendored tarball, when `source` is `vendored`. */
  readonly vendoredPath?: string;
}

/**
 * Tells whether the sdlf package at `packageRoot` was installed from a registry. The rule: the package folder
 * sits directly in a `node_modules` folder, and npm's record of that install tree (`node_modules/.package-lock.json`,
 * written by npm 7 and later for local, global and npx installs) gives it a `resolved` http(s) URL and an
 * `integrity`; or, for older npm and yarn, its own package.json carries `_resolved` (http(s)) and `_integrity`.
 * Anything else — a git clone, an `npm link`, a `file:` tarball, a tree without npm's record — is `local`, so the
 * project vendors the exact bytes rather than naming a version that may not resolve.
 */
export async function detectSdlfOrigin(packageRoot: string = SDLF_PACKAGE_ROOT): Promise<SdlfOrigin> {
  const root = packageRoot.endsWith(sep) ? packageRoot.slice(0, -1) : packageRoot;
  const parts = root.split(sep);
  const index = parts.lastIndexOf('node_modules');
  if (index === -1) return { kind: 'local', reason: `${root} is not inside a node_modules folder` };
  const own = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { _resolved?: string; _integrity?: string };
  if (isRegistryUrl(own._resolved) && own._integrity) return { kind: 'registry', resolved: own._resolved };
  const modules = parts.slice(0, index + 1).join(sep);
  const hidden = join(modules, '.package-lock.json');
  if (!existsSync(hidden)) return { kind: 'local', reason: `${hidden} does not exist` };
  const lock = JSON.parse(await readFile(hidden, 'utf8')) as {
    packages?: Record<string, { resolved?: string; integrity?: string }>;
  };
  const key = relative(dirname(modules), root).split(sep).join('/');
  const entry = lock.packages?.[key];
  if (entry && isRegistryUrl(entry.resolved) && entry.integrity) return { kind: 'registry', resolved: entry.resolved };
  return { kind: 'local', reason: `npm installed it from ${entry?.resolved ?? 'an unknown source'}` };
}

function isRegistryUrl(value: string | undefined): value is string {
  return value !== undefined && /^https?:\/\//.test(value);
}

/** Options of {@link resolveSdlfDependency}. */
export interface ResolveSdlfDependencyOptions {
  /** The running sdlf's version. */
  readonly version: string;
  /** Where the running sdlf came from ({@link detectSdlfOrigin}). */
  readonly origin: SdlfOrigin;
  /** A spec given with `--sdlf-spec`: a registry range, a git URL or a tarball path; wins over the rest. */
  readonly override?: string;
}

/** Decides the spec of the project's sdlf dependency: the override, else the registry range, else the vendored tarball. */
export function resolveSdlfDependency(options: ResolveSdlfDependencyOptions): SdlfDependency {
  if (options.override !== undefined) {
    if (options.override.trim() === '') {
      throw new SdlfError('--sdlf-spec "" is invalid: it is empty.', {
        code: 'INVALID_INPUT',
        suggestions: ['Pass an npm spec such as "^0.1.0", "github:owner/sdlf" or "file:../sdlf-0.1.0.tgz".'],
      });
    }
    return { spec: options.override, source: 'override' };
  }
  if (options.origin.kind === 'registry') return { spec: `^${options.version}`, source: 'registry' };
  const vendoredPath = `${VENDOR_DIR}/sdlf-${options.version}.tgz`;
  return { spec: `file:${vendoredPath}`, source: 'vendored', vendoredPath };
}

/** Runs npm with `args` in `cwd`; resolves with its stdout, throws an {@link SdlfError} naming the command on failure. */
export function runNpm(args: readonly string[], cwd: string, options: { inherit?: boolean } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', [...args], {
      cwd,
      stdio: ['ignore', 'pipe', options.inherit ? 'inherit' : 'pipe'],
      shell: process.platform === 'win32',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error) =>
      reject(
        new SdlfError(`Could not run npm ${args.join(' ')} in ${cwd}: ${error.message}.`, {
          code: 'NPM_FAILED',
          suggestions: ['Install Node.js with npm and make sure npm is on PATH.'],
        }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolvePromise(stdout);
      else {
        reject(
          new SdlfError(`npm ${args.join(' ')} failed in ${cwd} (exit ${code}).${stderr ? `\n${stderr.trim()}` : ''}`, {
            code: 'NPM_FAILED',
            suggestions: [`Fix the problem above, then run \`npm ${args.join(' ')}\` in ${cwd}.`],
          }),
        );
      }
    });
  });
}

/**
 * Packs the sdlf package at `packageRoot` as npm would publish it and returns the tarball's bytes. Scripts are
 * not run: the running sdlf is already built (it is running from its dist/).
 */
export async function packSdlf(packageRoot: string = SDLF_PACKAGE_ROOT): Promise<Uint8Array> {
  const destination = await mkdtemp(join(tmpdir(), 'sdlf-pack-'));
  try {
    const out = await runNpm(['pack', '--ignore-scripts', '--json', '--pack-destination', destination], packageRoot);
    const [packed] = JSON.parse(out) as Array<{ filename: string }>;
    if (!packed) throw new Error(`npm pack in ${packageRoot} printed no tarball.`);
    return new Uint8Array(await readFile(join(destination, basename(packed.filename))));
  } finally {
    await rm(destination, { recursive: true, force: true });
  }
}
