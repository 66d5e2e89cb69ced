import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/project.js';

// The package as users get it: packed once, installed into an empty prefix, and from then on run only from folders
// outside the clone with only that install (and one Node.js) on PATH. Installs go to the package registry.
const MINUTES = 60_000;
/** The Node.js 22 the registry serves as the `node` package; the machine's own Node.js is the other one tested. */
const NODE_22 = '22.23.3';
const clone = repoRoot.replace(/\/$/, '');
let tarball: string;

/** A user's shell environment: no npm_* variables of the test run, no SDLF_* or AWS_*, and `path` as PATH. */
function userEnv(path: readonly string[], extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|SDLF_|AWS_|INIT_CWD$|VITEST|NODE_OPTIONS$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, CDK_DISABLE_CLI_TELEMETRY: 'true', NO_COLOR: '1', PATH: path.join(delimiter), ...extra };
}

interface Shell {
  /** Runs a command; returns what it printed; throws with its output unless it exits with `exit` (default 0). */
  run(
    command: string,
    args: readonly string[],
    cwd: string,
    options?: { exit?: number; env?: Record<string, string> },
  ): Promise<Output>;
}

interface Output {
  readonly stdout: string;
  readonly stderr: string;
}

function shell(path: readonly string[]): Shell {
  return {
    async run(command, args, cwd, options = {}) {
      const result = await execa(command, args, {
        cwd,
        env: userEnv(path, options.env),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      });
      const expected = options.exit ?? 0;
      if (result.exitCode !== expected) {
        throw new Error(
          `${command} ${args.join(' ')} in ${cwd} exited ${result.exitCode}, not ${expected}:\n${result.stdout}\n${result.stderr}`,
        );
      }
      return { stdout: result.stdout, stderr: result.stderr };
    },
  };
}

/** Copies a project as `git clone` gives it: without node_modules, build output or local runs. */
function cloneOf(project: string, options: { lockfile?: boolean } = {}): string {
  const to = join(tempDir('sdlf-clone-'), 'p');
  cpSync(project, to, { recursive: true, filter: (path) => !/[/\\](node_modules|cdk\.out|\.sdlf)([/\\]|$)/.test(path) });
  if (options.lockfile === false) rmSync(join(to, 'package-lock.json'));
  return to;
}

/** The commands and environment of the CI/CD pipeline's synth step, read from the synthesized pipeline template. */
function synthStepOf(cdkOut: string): { commands: string[]; nodejs: string; env: Record<string, string> } {
  const file = readdirSync(cdkOut).find((name) => /-cicd-pipeline\.template\.json$/.test(name));
  if (file === undefined) throw new Error(`${cdkOut} holds no CI/CD pipeline template: ${readdirSync(cdkOut).join(', ')}`);
  const template = JSON.parse(readFileSync(join(cdkOut, file), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::CodeBuild::Project') continue;
    const source = resource.Properties.Source as { BuildSpec?: unknown };
    if (typeof source.BuildSpec !== 'string' || !source.BuildSpec.includes('sdlf synth')) continue;
    const spec = JSON.parse(source.BuildSpec) as {
      env?: { variables?: Record<string, string> };
      phases: Record<string, { commands?: string[]; 'runtime-versions'?: { nodejs?: string } }>;
    };
    const project = resource.Properties.Environment as { EnvironmentVariables?: Array<{ Name: string; Value: string }> };
    const env = Object.fromEntries((project.EnvironmentVariables ?? []).map((v) => [v.Name, v.Value]));
    return {
      commands: [
        ...(spec.phases.install?.commands ?? []),
        ...(spec.phases.pre_build?.commands ?? []),
        ...(spec.phases.build?.commands ?? []),
      ],
      nodejs: String(spec.phases.install?.['runtime-versions']?.nodejs ?? ''),
      env: { ...spec.env?.variables, ...env },
    };
  }
  throw new Error(`${file} has no CodeBuild project that runs sdlf synth.`);
}

/** Asserts that nothing in a project names a path of the sdlf clone. */
function expectNoClonePath(project: string): void {
  for (const file of ['package.json', 'package-lock.json']) {
    if (existsSync(join(project, file))) expect(readFileSync(join(project, file), 'utf8'), file).not.toContain(clone);
  }
  const installed = join(project, 'node_modules', 'sdlf');
  if (existsSync(installed)) expect(lstatSync(installed).isSymbolicLink(), `${installed} is a link`).toBe(false);
}

beforeAll(() => {
  ensureBuilt();
  const packs = tempDir('sdlf-pack-');
  // The build is there (ensureBuilt); prepack would only build it again.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packs], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: userEnv([dirname(process.execPath), '/usr/bin', '/bin']),
  });
  tarball = join(packs, (JSON.parse(out) as Array<{ filename: string }>)[0]?.filename ?? '');
}, 5 * MINUTES);

describe('the packed sdlf package', () => {
  it('holds the CLI, its manifest and root help, templates, Glue runner, Lambda assets, README, LICENSE and CHANGELOG, and nothing from the clone', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((path) => path.replace(/^package\//, ''));
    expect(
      files.filter((path) => /^(test|test-e2e|bench|src|scripts|python|\.ci)\//.test(path) || path.endsWith('.map')),
    ).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/run.js',
        'bin/cdk-app.js',
        'oclif.manifest.json',
        'dist/cli/help-cache.json',
        'dist/runtime/glue/main.py',
        'dist/samples/legislators-names.json',
        'dist/templates/project/cdk.json.hbs',
        'README.md',
        'LICENSE',
        'CHANGELOG.md',
        'package.json',
      ]),
    );
    expect(files.filter((path) => path.startsWith('dist/handlers/')).length).toBeGreaterThan(0);
  });

  it(
    'passes npm publish --dry-run without a warning',
    async () => {
      // A token is configured only so that npm does not warn about being logged out; --dry-run sends nothing.
      const publish = await shell([dirname(process.execPath), '/usr/bin', '/bin']).run(
        'npm',
        ['publish', '--dry-run', tarball, '--//registry.npmjs.org/:_authToken=dry-run-only'],
        tempDir(),
      );
      expect(publish.stderr.split('\n').filter((line) => /npm (warn|error)/i.test(line))).toEqual([]);
      expect(`${publish.stdout}\n${publish.stderr}`).toContain('+ sdlf@');
    },
    2 * MINUTES,
  );
});

describe.each([
  { node: `the machine's Node.js ${process.version}`, version: undefined },
  { node: `Node.js ${NODE_22}`, version: NODE_22 },
])('sdlf installed from the tarball, on $node', ({ version }) => {
  let sh: Shell;
  let prefix: string;
  let project: string;
  let initOutput: Output;
  const major = Number.parseInt(version ?? process.versions.node, 10);

  beforeAll(async () => {
    const system = [dirname(process.execPath), '/usr/bin', '/bin'];
    let nodeBin: string[] = [];
    if (version !== undefined) {
      const runtime = tempDir('sdlf-node-');
      await shell(system).run('npm', ['install', '--no-audit', '--no-fund', '--prefix', runtime, `node@${version}`], runtime);
      nodeBin = [join(runtime, 'node_modules', 'node', 'bin')];
    }
    prefix = tempDir('sdlf-prefix-');
    const path = [join(prefix, 'bin'), ...nodeBin, ...system];
    sh = shell(path);
    expect((await sh.run('node', ['--version'], tempDir())).stdout).toBe(`v${version ?? process.versions.node}`);
    await sh.run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], tempDir());
    // Given an empty folder outside the clone, when the user creates a project with its CI/CD pipeline
    const home = tempDir('sdlf-user-');
    initOutput = await sh.run('sdlf', ['init', 'p', '--yes', '--cicd'], home);
    project = join(home, 'p');
  }, 10 * MINUTES);

  it('init installs the project and writes its lockfile, depending on this sdlf packed into vendor/', () => {
    expect(initOutput.stdout).toContain('sdlf dependency: file:vendor/sdlf-');
    expect(readdirSync(join(project, 'vendor'))).toEqual([expect.stringMatching(/^sdlf-\d+\.\d+\.\d+.*\.tgz$/)]);
    expect(existsSync(join(project, 'package-lock.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(project, 'node_modules', 'sdlf', 'package.json'), 'utf8')).name).toBe('sdlf');
    expectNoClonePath(project);
    // One line of sdlf's own on a Node.js past its end of life, none on a supported one
    const notices = initOutput.stderr.split('\n').filter((line) => line.includes('is past its end of life'));
    expect(notices).toHaveLength(major < 22 ? 1 : 0);
  });

  it('answers sdlf, --help and --version as oclif does, without loading oclif when the install matches the build', async () => {
    // Given the installed package, a preload that says whether @oclif/core was loaded, and oclif run directly
    const bin = join(prefix, 'lib', 'node_modules', 'sdlf', 'bin', 'run.js');
    const dir = tempDir('sdlf-start-');
    const probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      "import { createRequire } from 'node:module';\nconst cache = createRequire(import.meta.url).cache;\n" +
        "process.on('exit', () => process.stderr.write('oclif loaded: ' + Object.keys(cache).some((k) => k.includes('/@oclif/core/')) + '\\n'));\n",
    );
    const oclif = join(dir, 'oclif.mjs');
    const core = pathToFileURL(createRequire(bin).resolve('@oclif/core')).href;
    writeFileSync(oclif, `const { execute } = await import('${core}');\nawait execute({ dir: '${pathToFileURL(bin).href}' });\n`);
    const env = { SDLF_NODE_WARNING: 'false', OCLIF_COLUMNS: '72' };
    for (const args of [[], ['--help'], ['--version']]) {
      // When sdlf and oclif answer the same argv, then the bytes are the same
      const fast = await sh.run('node', ['--import', probe, bin, ...args], dir, { env });
      const reference = await sh.run('node', ['--import', probe, oclif, ...args], dir, { env });
      expect(fast.stdout).toBe(reference.stdout);
      expect(reference.stderr).toContain('oclif loaded: true');
      // and sdlf loaded oclif only if the install resolved other versions of the packages that render help
      const key = JSON.parse(readFileSync(join(dirname(bin), '..', 'dist', 'cli', 'help-cache.json'), 'utf8')).key;
      const { helpCacheKey } = await import(pathToFileURL(join(dirname(bin), '..', 'dist', 'cli', 'fast-start.js')).href);
      const matches = JSON.stringify(helpCacheKey(join(dirname(bin), '..'), pathToFileURL(bin).href)) === JSON.stringify(key);
      expect(fast.stderr).toContain(`oclif loaded: ${!matches}`);
    }
  });

  it(
    "works in a teammate's clone after npm ci: validate, run --local, synth, plain cdk synth, typecheck",
    async () => {
      const copy = cloneOf(project);
      await sh.run('npm', ['ci', '--no-audit', '--no-fund'], copy);
      expectNoClonePath(copy);
      const validate = await sh.run('npx', ['sdlf', 'validate'], copy);
      expect(validate.stdout).toContain('dataset dev/demoteam/legislators');
      const local = await sh.run('npx', ['sdlf', 'run', '--local', '--team', 'demoteam', '--dataset', 'legislators'], copy);
      expect(local.stdout).toMatch(/history\s+10,127 rows/);
      const synth = await sh.run('npx', ['sdlf', 'synth'], copy);
      expect(synth.stdout).toMatch(/-cicd-pipeline\s+cicd\s+cicd\s/);
      // Plain cdk, through the project's cdk.json: the feature flags are set, so it has nothing to warn about
      const cdk = await sh.run('npx', ['cdk', 'synth', '--quiet'], copy);
      expect(`${cdk.stdout}\n${cdk.stderr}`).not.toMatch(/feature flags are not configured/);
      await sh.run('npm', ['run', 'typecheck'], copy);
    },
    10 * MINUTES,
  );

  it(
    'installs and synthesizes without the lockfile (npm install resolves the same pins)',
    async () => {
      const copy = cloneOf(project, { lockfile: false });
      await sh.run('npm', ['install', '--no-audit', '--no-fund'], copy);
      await sh.run('npx', ['sdlf', 'synth'], copy);
    },
    10 * MINUTES,
  );

  // One upgrade is enough; it is made on the machine's Node.js.
  if (major < 22)
    it(
      'upgrade moves a project made by an older sdlf to this one: dependency, vendored tarball, flags, lockfile',
      async () => {
        // Given a teammate's clone of a project an older sdlf made: another vendored tarball, a feature flag short
        const copy = cloneOf(project);
        const [current] = readdirSync(join(copy, 'vendor'));
        renameSync(join(copy, 'vendor', current ?? ''), join(copy, 'vendor', 'sdlf-0.0.1.tgz'));
        const pkg = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8'));
        pkg.dependencies.sdlf = 'file:vendor/sdlf-0.0.1.tgz';
        writeFileSync(join(copy, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
        const cdk = JSON.parse(readFileSync(join(copy, 'cdk.json'), 'utf8'));
        const [flag = '', value] = Object.entries(cdk.context)[0] ?? [];
        delete cdk.context[flag];
        writeFileSync(join(copy, 'cdk.json'), `${JSON.stringify(cdk, null, 2)}\n`);
        await sh.run('npm', ['install', '--no-audit', '--no-fund'], copy);
        // When the user runs the sdlf they installed
        const upgrade = JSON.parse((await sh.run('sdlf', ['upgrade', '--json'], copy)).stdout);
        // Then the project depends on this sdlf's tarball, the old one is gone, the flag is back, and it works
        expect(upgrade.installed).toBe(true);
        expect(readdirSync(join(copy, 'vendor'))).toEqual([current]);
        expect(JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')).dependencies.sdlf).toBe(`file:vendor/${current}`);
        expect(JSON.parse(readFileSync(join(copy, 'cdk.json'), 'utf8')).context[flag]).toEqual(value);
        expect(readFileSync(join(copy, 'package-lock.json'), 'utf8')).toContain(`vendor/${current}`);
        expectNoClonePath(copy);
        await sh.run('npx', ['sdlf', 'validate'], copy);
        // And a second upgrade finds nothing to do
        const again = JSON.parse((await sh.run('sdlf', ['upgrade', '--json'], copy)).stdout);
        expect(again.changes.filter((c: { action: string }) => c.action !== 'unchanged')).toEqual([]);
        expect(again.installed).toBe(false);
      },
      10 * MINUTES,
    );

  // The pipeline's CodeBuild step runs on Node.js 22 (the template says so), so it is run on the Node.js 22 install.
  if (major >= 22)
    it(
      "runs the CI/CD pipeline's synth step, as the template gives it, in a fresh clone",
      async () => {
        const built = cloneOf(project);
        await sh.run('npx', ['sdlf', 'synth', '--output', join(built, 'cdk.out')], project);
        const step = synthStepOf(join(built, 'cdk.out'));
        rmSync(join(built, 'cdk.out'), { recursive: true });
        // The step runs on the Node.js major of this block, the one CodeBuild is told to use
        expect(step.nodejs).toBe(String(major));
        expect(step.commands).toContain('npx sdlf synth');
        for (const command of step.commands) await sh.run('sh', ['-c', command], built, { env: step.env });
        expect(readdirSync(join(built, 'cdk.out')).some((name) => name.endsWith('-cicd-pipeline.template.json'))).toBe(true);
      },
      10 * MINUTES,
    );

  // One install without the optional DuckDB is enough; it is made on the machine's Node.js.
  if (major < 22)
    it(
      'synthesizes without the optional DuckDB, and run --local then says how to install it',
      async () => {
        const copy = cloneOf(project);
        await sh.run('npm', ['ci', '--omit=optional', '--no-audit', '--no-fund'], copy);
        expect(existsSync(join(copy, 'node_modules', '@duckdb'))).toBe(false);
        await sh.run('npx', ['sdlf', 'synth'], copy);
        const local = await sh.run('npx', ['sdlf', 'run', '--local', '--team', 'demoteam', '--dataset', 'legislators'], copy, {
          exit: 2,
        });
        expect(oneLine(local.stderr)).toContain('@duckdb/node-api is not installed');
        expect(oneLine(local.stderr)).toMatch(/Install it in the project: npm install --save-optional @duckdb\/node-api@\d/);
        expect(existsSync(join(copy, '.sdlf'))).toBe(false);
      },
      10 * MINUTES,
    );
});
