import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { recommendedFeatureFlags } from '../app/feature-flags.js';
import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { SdlfError } from '../core/errors.js';
import { type PlannedFile, writeFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { parseJson } from '../core/json.js';
import {
  contentHash,
  GENERATED_MANIFEST,
  type GeneratedManifest,
  MANAGED_DEV_DEPENDENCIES,
  manifestFile,
  OWNED_FILES,
  readGeneratedManifest,
} from './generated-files.js';
import { type Answers, ownPackage, packageName, projectTemplateView } from './init-project.js';
import {
  detectSdlfOrigin,
  packSdlf,
  resolveSdlfDependency,
  runNpm,
  type SdlfDependency,
  type SdlfOrigin,
  VENDOR_DIR,
} from './sdlf-dependency.js';
import { renderTemplateTree } from './templates.js';

/** Options of {@link upgradeProject}. */
export interface UpgradeProjectOptions {
  /** Root of the project. */
  readonly root: string;
  /** The sdlf dependency spec to write instead of the running sdlf's (as `sdlf init --sdlf-spec`). */
  readonly sdlfSpec?: string;
  /** Where the running sdlf came from. @default {@link detectSdlfOrigin} of the running package */
  readonly origin?: SdlfOrigin;
  /** Shows what would change and writes nothing. @default false */
  readonly dryRun?: boolean;
  /** Runs `npm install`, which updates package-lock.json and node_modules. @default true */
  readonly install?: boolean;
  /** Replaces generated files the user edited without asking. @default false */
  readonly force?: boolean;
  /** Asks, per edited file, whether to replace it (a terminal is there to answer). @default false */
  readonly ask?: boolean;
  /** Packs the running sdlf for `vendor/` (tests replace it). @default {@link packSdlf} */
  readonly pack?: () => Promise<Uint8Array>;
  /** Runs npm (tests replace it). @default {@link runNpm} */
  readonly npm?: (args: readonly string[], cwd: string) => Promise<string>;
}

/**
 * What upgrade does to one file: `create`, `update` or `delete` it; leave it `unchanged`; keep a file the user
 * edited (`kept-edited`), or replace it because they said so or passed --force (`replace-edited`).
 */
export type UpgradeAction = 'create' | 'update' | 'delete' | 'unchanged' | 'kept-edited' | 'replace-edited';

/** One file in an {@link UpgradeProjectResult}. */
export interface UpgradeChange {
  readonly path: string;
  readonly action: UpgradeAction;
  /** Unified diff from the file as it is to what upgrade writes (or, when kept, would write). */
  readonly diff?: string;
  /** Why, for files kept or left. */
  readonly reason?: string;
  /** The diff was shown already, at the question whether to replace the file. */
  readonly asked?: boolean;
}

/** What {@link upgradeProject} did (or, in a dry run, would do). */
export interface UpgradeProjectResult {
  readonly root: string;
  readonly dryRun: boolean;
  /** The project's sdlf dependency before, and the version node_modules held. */
  readonly from: { readonly spec?: string; readonly installed?: string };
  /** The running sdlf's version and the spec written for it. */
  readonly to: SdlfDependency & { readonly version: string };
  readonly changes: readonly UpgradeChange[];
  /** Whether `npm install` ran. */
  readonly installed: boolean;
  readonly nextSteps: readonly string[];
}

/** A planned change with the bytes to write (absent for deletes and kept files). */
interface Step extends UpgradeChange {
  readonly contents?: string | Uint8Array;
}

/**
 * Moves a project to the running sdlf: its dependency spec (the registry range of this version, or this sdlf
 * packed into `vendor/`, or `sdlfSpec`), the vendored tarball, the versions and feature flags sdlf writes into
 * package.json and cdk.json (keeping every value the user set), the files sdlf owns (`README.md`, `tsconfig.json`,
 * `.gitignore`) while they are as it generated them, and package-lock.json (`npm install`). A generated file the
 * user edited is kept unless they agree (`ask`) or pass `force`; each change comes with its diff. If npm fails,
 * every file is put back as it was.
 */
export async function upgradeProject(options: UpgradeProjectOptions, io: Io): Promise<UpgradeProjectResult> {
  const root = options.root;
  const project = await loadProject(root);
  const pkg = await readPackageJson(root);
  const installed = await installedVersion(root);
  const own = await ownPackage();
  const dependency = resolveSdlfDependency({
    version: own.version,
    origin: options.origin ?? (await detectSdlfOrigin()),
    override: options.sdlfSpec,
  });
  const manifest = await readGeneratedManifest(root);
  const plan: UpgradePlan = {
    root,
    options,
    io,
    version: own.version,
    dependency,
    manifest,
    ...(await renderProjectFiles(project, root, pkg, dependency)),
  };
  const steps: Step[] = [
    packageJsonStep(plan, pkg),
    await cdkJsonStep(plan),
    ...(await ownedFileSteps(plan)),
    ...(await vendorSteps(plan, pkg.fromSpec)),
    await manifestStep(plan),
  ];
  return applySteps(plan, steps, { ...(pkg.fromSpec ? { spec: pkg.fromSpec } : {}), ...(installed ? { installed } : {}) });
}

/** The project's package.json: its text, its value and its two dependency sections (edited in place by the plan). */
interface PackageJson {
  readonly text: string;
  readonly value: Record<string, unknown>;
  readonly dependencies: Record<string, unknown>;
  readonly devDependencies: Record<string, unknown>;
  /** The sdlf dependency spec before the upgrade. */
  readonly fromSpec: string | undefined;
}

/** What an upgrade moves the project to: the running sdlf, its dependency spec, and the project files it renders. */
interface UpgradePlan {
  readonly root: string;
  readonly options: UpgradeProjectOptions;
  readonly io: Io;
  /** The running sdlf's version. */
  readonly version: string;
  readonly dependency: SdlfDependency;
  readonly manifest: GeneratedManifest | undefined;
  readonly view: Awaited<ReturnType<typeof projectTemplateView>>;
  /** The text of a file of the rendered project template. */
  readonly renderedText: (path: string) => string;
}

/** Reads and checks the project's package.json, which holds the sdlf dependency. */
async function readPackageJson(root: string): Promise<PackageJson> {
  const text = await readProjectFile(root, 'package.json');
  if (text === undefined) {
    throw new SdlfError(`${root} has no package.json, so it has no sdlf dependency to upgrade.`, {
      code: 'NO_PACKAGE_JSON',
      suggestions: [
        'Restore package.json from git, or make a new project with "sdlf init" and move ddk.json, parameters.json and transforms/ into it.',
      ],
    });
  }
  const value = asObject(parseJson(text, 'package.json'), 'package.json');
  const dependencies = asObject(value.dependencies ?? {}, 'package.json', 'dependencies');
  const devDependencies = asObject(value.devDependencies ?? {}, 'package.json', 'devDependencies');
  const fromSpec =
    typeof dependencies.sdlf === 'string'
      ? dependencies.sdlf
      : typeof devDependencies.sdlf === 'string'
        ? devDependencies.sdlf
        : undefined;
  return { text, value, dependencies, devDependencies, fromSpec };
}

/** Renders the project template with the project's first environment, as `sdlf init` would now. */
async function renderProjectFiles(
  project: Project,
  root: string,
  pkg: PackageJson,
  dependency: SdlfDependency,
): Promise<Pick<UpgradePlan, 'view' | 'renderedText'>> {
  const environment = project.environments[0];
  if (!environment) {
    throw new SdlfError('ddk.json has no deployment environment, so the project files cannot be rendered.', {
      code: 'NO_ENVIRONMENT',
      suggestions: ['Add an environment (such as "dev") to ddk.json next to "cicd".'],
    });
  }
  const answers: Answers = {
    prefix: environment.resourcePrefix,
    envName: environment.id,
    account: environment.account,
    region: environment.region,
    cicd: project.cicd.enabled,
    cicdAccount: project.cicd.account,
    cicdRegion: project.cicd.region,
    repository: project.cicd.source.repository,
  };
  const name = typeof pkg.value.name === 'string' ? pkg.value.name : packageName(root);
  const view = await projectTemplateView(answers, name, dependency.spec, project.projectId ?? '');
  const rendered = await renderTemplateTree('project', view);
  const renderedText = (path: string) => {
    const file = rendered.find((f) => f.path === path);
    if (!file) throw new Error(`The project template has no ${path}.`);
    return typeof file.contents === 'string' ? file.contents : Buffer.from(file.contents).toString('utf8');
  };
  return { view, renderedText };
}

/** The development dependencies of the rendered package.json. */
function templateDevDependencies(plan: UpgradePlan): Record<string, unknown> {
  const template = asObject(parseJson(plan.renderedText('package.json'), 'package.json'), 'package.json');
  return asObject(template.devDependencies, 'package.json', 'devDependencies');
}

/**
 * package.json: the sdlf dependency, aws-cdk and engines always (they must match this sdlf); the other development
 * dependencies while they hold what sdlf wrote.
 */
function packageJsonStep(plan: UpgradePlan, pkg: PackageJson): Step {
  const { manifest, dependency } = plan;
  const { value, dependencies: section, devDependencies: devSection } = pkg;
  const template = asObject(parseJson(plan.renderedText('package.json'), 'package.json'), 'package.json');
  const templateDev = asObject(template.devDependencies, 'package.json', 'devDependencies');
  if (typeof devSection.sdlf === 'string' && typeof section.sdlf !== 'string') devSection.sdlf = dependency.spec;
  else value.dependencies = { ...section, sdlf: dependency.spec };
  const nextDev: Record<string, unknown> = { ...devSection, 'aws-cdk': templateDev['aws-cdk'] };
  for (const dev of MANAGED_DEV_DEPENDENCIES) {
    if (manifest && devSection[dev] === manifest.devDependencies[dev]) nextDev[dev] = templateDev[dev];
    else if (devSection[dev] === undefined) nextDev[dev] = templateDev[dev];
  }
  value.devDependencies = nextDev;
  value.engines = {
    ...asObject(value.engines ?? {}, 'package.json', 'engines'),
    ...asObject(template.engines, 'package.json', 'engines'),
  };
  return changeOf('package.json', pkg.text, `${JSON.stringify(value, null, indentOf(pkg.text))}\n`);
}

/** cdk.json: the app while it is sdlf's; every recommended feature flag the file lacks (set values stay). */
async function cdkJsonStep({ root, manifest, view, renderedText }: UpgradePlan): Promise<Step> {
  const cdkText = await readProjectFile(root, 'cdk.json');
  if (cdkText === undefined) return { path: 'cdk.json', action: 'create', contents: renderedText('cdk.json') };
  const cdk = asObject(parseJson(cdkText, 'cdk.json'), 'cdk.json');
  const ownsApp = manifest ? cdk.app === manifest.cdkApp : typeof cdk.app === 'string' && cdk.app.includes('sdlf/bin/cdk-app');
  if (ownsApp || cdk.app === undefined) cdk.app = view.cdkJson.app;
  cdk.context = { ...recommendedFeatureFlags(), ...asObject(cdk.context ?? {}, 'cdk.json', 'context') };
  return changeOf('cdk.json', cdkText, `${JSON.stringify(cdk, null, indentOf(cdkText))}\n`);
}

/** Files sdlf owns: replaced while unedited; an edited one is the user's to decide. */
async function ownedFileSteps(plan: UpgradePlan): Promise<Step[]> {
  const steps: Step[] = [];
  for (const path of OWNED_FILES) {
    const next = plan.renderedText(path);
    const current = await readProjectFile(plan.root, path);
    if (current === undefined) {
      steps.push(
        plan.manifest?.files[path]
          ? { path, action: 'unchanged', reason: 'you deleted it; upgrade does not bring it back' }
          : { path, action: 'create', contents: next },
      );
      continue;
    }
    const change = changeOf(path, current, next);
    if (change.action === 'unchanged' || plan.manifest?.files[path] === contentHash(current)) {
      steps.push(change);
      continue;
    }
    steps.push(await editedFileStep(plan, path, change));
  }
  return steps;
}

/** A generated file the user edited: replaced under `force` or when they agree (`ask`), kept otherwise. */
async function editedFileStep({ options, io, manifest, version }: UpgradePlan, path: string, change: Step): Promise<Step> {
  const edited = manifest ? 'edited since sdlf generated it' : `not recorded in ${GENERATED_MANIFEST}, so it may hold your edits`;
  let replace = options.force ?? false;
  if (!replace && options.ask && !options.dryRun) {
    io.info(change.diff ?? '');
    replace = await io.confirm(`${path} is ${edited}. Replace it with sdlf ${version}'s version (the diff above)?`, {
      default: false,
    });
  }
  return replace
    ? { ...change, action: 'replace-edited', reason: edited, ...(options.ask && !options.force ? { asked: true } : {}) }
    : {
        path,
        action: 'kept-edited',
        ...(change.diff ? { diff: change.diff } : {}),
        reason: `${edited}; kept (take sdlf's version from the diff, or re-run with --force)`,
        ...(options.ask && !options.dryRun ? { asked: true } : {}),
      };
}

/** The vendored tarball: this sdlf's when the project vendors it; the one it no longer names goes. */
async function vendorSteps({ root, options, dependency }: UpgradePlan, fromSpec: string | undefined): Promise<Step[]> {
  const steps: Step[] = [];
  const oldVendored = /^file:(vendor\/sdlf-[^/\\]+\.tgz)$/.exec(fromSpec ?? '')?.[1];
  if (dependency.vendoredPath) {
    const bytes = await (options.pack ?? packSdlf)();
    const current = existsSync(join(root, dependency.vendoredPath))
      ? await readFile(join(root, dependency.vendoredPath))
      : undefined;
    steps.push({
      path: dependency.vendoredPath,
      action: current === undefined ? 'create' : current.equals(bytes) ? 'unchanged' : 'update',
      contents: bytes,
    });
  }
  if (oldVendored && oldVendored !== dependency.vendoredPath && existsSync(join(root, oldVendored))) {
    steps.push({
      path: oldVendored,
      action: 'delete',
      reason: `the project no longer depends on it (${VENDOR_DIR}/ keeps only the sdlf it names)`,
    });
  }
  return steps;
}

/** The manifest: what this sdlf generates now. */
async function manifestStep(plan: UpgradePlan): Promise<Step> {
  const templateDev = templateDevDependencies(plan);
  const nextManifest: GeneratedManifest = {
    sdlf: plan.version,
    files: Object.fromEntries(OWNED_FILES.map((path) => [path, contentHash(plan.renderedText(path))])),
    devDependencies: Object.fromEntries(MANAGED_DEV_DEPENDENCIES.map((dev) => [dev, String(templateDev[dev])])),
    cdkApp: plan.view.cdkJson.app,
  };
  const manifestNext = manifestFile(nextManifest);
  return changeOf(
    GENERATED_MANIFEST,
    (await readProjectFile(plan.root, GENERATED_MANIFEST)) ?? '',
    String(manifestNext.contents),
  );
}

/**
 * Writes and deletes what the steps say (nothing in a dry run) and runs `npm install` when something changed or
 * node_modules does not hold this sdlf yet; returns the result with the next steps.
 */
async function applySteps(
  plan: UpgradePlan,
  steps: readonly Step[],
  from: UpgradeProjectResult['from'],
): Promise<UpgradeProjectResult> {
  const { root, options, io, version } = plan;
  const dryRun = options.dryRun ?? false;
  const changes: UpgradeChange[] = steps.map(({ contents: _contents, ...change }) => change);
  const writes = steps.filter((s) => ['create', 'update', 'replace-edited'].includes(s.action) && s.contents !== undefined);
  const deletes = steps.filter((s) => s.action === 'delete');
  const touched = writes.length + deletes.length > 0;
  // Installs when something changed, or when node_modules does not hold this sdlf yet.
  const needsInstall = touched || from.installed !== version;
  const install = !dryRun && (options.install ?? true) && needsInstall;
  const result = (didInstall: boolean): UpgradeProjectResult => ({
    root,
    dryRun,
    from,
    to: { ...plan.dependency, version },
    changes,
    installed: didInstall,
    nextSteps: nextStepsOf({ dryRun, touched, needsInstall, didInstall, version }),
  });
  if (dryRun || !touched) {
    if (!dryRun && install) await runInstall(options, root, io);
    return result(!dryRun && install);
  }
  await writeWithRollback(plan, writes, deletes, install);
  return result(install);
}

/** What to run after an upgrade (or a dry run). */
function nextStepsOf(state: {
  dryRun: boolean;
  touched: boolean;
  needsInstall: boolean;
  didInstall: boolean;
  version: string;
}): string[] {
  const { dryRun, touched, needsInstall, didInstall, version } = state;
  if (dryRun) return touched || needsInstall ? ['npx sdlf upgrade (without --dry-run) to apply it'] : [];
  return [
    ...(!didInstall && needsInstall ? ['npm install'] : []),
    ...(touched
      ? ['git diff', 'npx sdlf validate', 'npx sdlf synth', `git add -A && git commit -m "chore: sdlf ${version}"`]
      : []),
  ];
}

/**
 * Writes and deletes the files, then runs `npm install` when asked. Everything upgrade writes, deletes or npm
 * rewrites is kept to put back if npm fails.
 */
async function writeWithRollback(
  { root, options, io }: UpgradePlan,
  writes: readonly Step[],
  deletes: readonly Step[],
  install: boolean,
): Promise<void> {
  const backups = new Map<string, Buffer | undefined>();
  for (const path of [...writes.map((s) => s.path), ...deletes.map((s) => s.path), 'package-lock.json']) {
    backups.set(path, existsSync(join(root, path)) ? await readFile(join(root, path)) : undefined);
  }
  const files: PlannedFile[] = writes.map((s) => ({ path: s.path, contents: s.contents as string | Uint8Array, update: true }));
  await writeFiles({ root, files }, {}, { ...io, info: () => undefined });
  for (const step of deletes) await rm(join(root, step.path), { force: true });
  if (!install) return;
  try {
    await runInstall(options, root, io);
  } catch (error) {
    for (const [path, contents] of backups) {
      if (contents === undefined) await rm(join(root, path), { force: true });
      else await writeFile(join(root, path), contents);
    }
    if (error instanceof SdlfError) {
      throw new SdlfError(`${error.message}\nThe project's files were put back as they were before sdlf upgrade.`, {
        code: error.code ?? 'NPM_FAILED',
        suggestions: [...(error.suggestions ?? []), 'Then run "sdlf upgrade" again.'],
      });
    }
    throw error;
  }
}

async function runInstall(options: UpgradeProjectOptions, root: string, io: Io): Promise<void> {
  io.info(`Installing the upgraded dependencies (npm install in ${root}); this updates package-lock.json…`);
  await (options.npm ?? runNpm)(['install', '--no-audit', '--no-fund'], root);
}

/** Renders a human summary of an upgrade: the dependency move, each change with its diff, and what to run next. */
export function formatUpgradeSummary(result: UpgradeProjectResult): string[] {
  const from = result.from.spec
    ? `${result.from.spec}${result.from.installed ? ` (installed: ${result.from.installed})` : ''}`
    : 'none';
  const lines = [
    `${result.dryRun ? 'Would upgrade' : 'Upgraded'} ${result.root} to sdlf ${result.to.version}: dependency ${from} → ${result.to.spec} (${result.to.source})`,
  ];
  const shown = result.changes.filter((c) => c.action !== 'unchanged');
  if (shown.length === 0) lines.push('Every generated file is up to date.');
  for (const change of shown) {
    lines.push('', `${change.action} ${change.path}${change.reason ? ` — ${change.reason}` : ''}`);
    if (change.diff && !change.asked) lines.push(...change.diff.trimEnd().split('\n'));
  }
  if (result.installed) lines.push('', 'npm install updated package-lock.json and node_modules.');
  if (result.nextSteps.length > 0) lines.push('', 'Next:', ...result.nextSteps.map((step) => `  ${step}`));
  return lines;
}

/** A change from `current` to `next` with its unified diff (`unchanged` when they are equal). */
function changeOf(path: string, current: string, next: string): Step {
  if (current === next) return { path, action: 'unchanged' };
  return {
    path,
    action: current === '' ? 'create' : 'update',
    diff: createTwoFilesPatch(`a/${path}`, `b/${path}`, current, next, undefined, undefined, { context: 3 }).replace(/^=+\n/, ''),
    contents: next,
  };
}

async function installedVersion(root: string): Promise<string | undefined> {
  const text = await readProjectFile(root, join('node_modules', 'sdlf', 'package.json'));
  if (text === undefined) return undefined;
  try {
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

async function readProjectFile(root: string, path: string): Promise<string | undefined> {
  return readFile(join(root, path), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/** The indentation of a JSON text (its first indented line), so a rewrite keeps the file's style. */
function indentOf(text: string): string | number {
  return /^([ \t]+)"/m.exec(text)?.[1] ?? 2;
}

function asObject(value: unknown, file: string, key?: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  const what = key ? `"${key}" in ${file}` : file;
  throw new SdlfError(`${what} must be a JSON object, got ${JSON.stringify(value)}.`, {
    code: 'INVALID_JSON',
    suggestions: [`Restore ${file} from git, or make ${key ? `"${key}"` : 'it'} an object ({ … }).`],
  });
}
