import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import { recommendedFeatureFlags } from '../app/feature-flags.js';
import type { DatasetConfig, DeploymentEnvironment } from '../config/model.js';
import { checkProjectNames } from '../config/naming.js';
import { projectPaths } from '../config/paths.js';
import {
  AWS_REGIONS,
  cicdEnvironmentSchema,
  DEFAULTS,
  deploymentEnvironmentSchema,
  ENVIRONMENT_NAME_PATTERN,
  PROJECT_ID_PATTERN,
} from '../config/schema.js';
import { SdlfError } from '../core/errors.js';
import { type FileChange, type PlannedFile, writeFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { nearest } from '../core/suggest.js';
import { datasetTemplateView } from './add-dataset.js';
import { generatedManifestFile } from './generated-files.js';
import {
  detectSdlfOrigin,
  packSdlf,
  resolveSdlfDependency,
  runNpm,
  type SdlfDependency,
  type SdlfOrigin,
} from './sdlf-dependency.js';
import { renderTemplateTree, TEMPLATES_ROOT } from './templates.js';

/** Account id written when none is given under `--yes`; the user must replace it before deploying. */
export const PLACEHOLDER_ACCOUNT = '111111111111';
/** Region used under `--yes` when neither a flag nor `AWS_REGION` gives one. */
export const DEFAULT_REGION = 'us-east-1';
/** Environment created by `sdlf init` unless told otherwise. */
export const DEFAULT_ENV_NAME = 'dev';
/** The demo dataset every new project starts with: the seed's legislators dataset. */
export const DEMO_DATASET = {
  team: 'demoteam',
  dataset: 'legislators',
  pipeline: DEFAULTS.pipeline,
  stageATransform: DEFAULTS.stageATransform,
  stageBTransform: DEFAULTS.stageBTransform,
} as const;

/** Asks the questions `sdlf init` cannot answer from flags; `createTerminalPrompter` (src/cli/terminal.ts) on a TTY, a script in tests. */
export interface Prompter {
  /** Asks for a line of text; `validate` returns an error message or `true`. */
  input(question: { message: string; default?: string; validate: (value: string) => string | true }): Promise<string>;
  /** Asks a yes/no question. */
  confirm(question: { message: string; default: boolean }): Promise<boolean>;
}

/** Values inferred from the user's environment, each with where it came from (e.g. `AWS_REGION`). */
export interface InferredValue {
  readonly value: string;
  readonly source: string;
}

/** Options of {@link initProject}; every question has an option, so scripts never need a terminal. */
export interface InitProjectOptions {
  /** Folder of the new project (absolute, or relative to the process's working directory). */
  readonly directory: string;
  /** Resource prefix of every physical name. @default 'ddk' under `yes` */
  readonly prefix?: string;
  /** Name of the deployment environment. @default 'dev' */
  readonly envName?: string;
  /** Account of the deployment environment. @default `cicdAccount`, else the inferred account, else {@link PLACEHOLDER_ACCOUNT} under `yes` */
  readonly account?: string;
  /** Region of the deployment environment. @default `cicdRegion`, else the inferred region, else {@link DEFAULT_REGION} under `yes` */
  readonly region?: string;
  /** Deploys through a CI/CD pipeline in the cicd account. @default false under `yes` */
  readonly cicd?: boolean;
  /** Account of the CI/CD pipeline. @default the deployment environment's account */
  readonly cicdAccount?: string;
  /** Region of the CI/CD pipeline. @default the deployment environment's region */
  readonly cicdRegion?: string;
  /** CodeCommit repository of the CI/CD pipeline. @default the project folder's name */
  readonly repository?: string;
  /** Accepts defaults instead of asking. @default false */
  readonly yes?: boolean;
  /** Writes into a non-empty folder and overwrites files sdlf would create. @default false */
  readonly force?: boolean;
  /** Shows the files that would be written and writes nothing. @default false */
  readonly dryRun?: boolean;
  /** Values found in the environment (`AWS_ACCOUNT_ID`, `AWS_REGION`), used when no flag is given. */
  readonly inferred?: { readonly account?: InferredValue; readonly region?: InferredValue };
  /** Asks what flags did not answer; without one, a missing answer is an error naming the flag. */
  readonly prompter?: Prompter;
  /** The project's sdlf dependency spec (a range, git URL or tarball path). @default see {@link resolveSdlfDependency} */
  readonly sdlfSpec?: string;
  /** Where the running sdlf came from. @default {@link detectSdlfOrigin} of the running package */
  readonly sdlfOrigin?: SdlfOrigin;
  /** Runs `npm install` in the new project, which writes package-lock.json. @default true */
  readonly install?: boolean;
  /**
   * The project's id, written to ddk.json as `project_id` and tagged `sdlf:project-id` on every stack, so that
   * another project with the same prefix never touches this one's stacks. @default a new random UUID
   */
  readonly projectId?: string;
}

/** What {@link initProject} created. */
export interface InitProjectResult {
  /** Absolute path of the project. */
  readonly root: string;
  readonly dryRun: boolean;
  /** `project_id` written to ddk.json. */
  readonly projectId: string;
  readonly prefix: string;
  readonly environment: { readonly id: string; readonly account: string; readonly region: string };
  readonly cicd: { readonly enabled: boolean; readonly account: string; readonly region: string; readonly repository: string };
  /** The demo dataset registered in parameters.json. */
  readonly dataset: { readonly team: string; readonly dataset: string; readonly pipeline: string };
  /** Settings that hold placeholder values to replace before deploying (e.g. `environments.dev.account`). */
  readonly placeholders: readonly string[];
  readonly files: readonly FileChange[];
  /** How the project depends on sdlf. */
  readonly sdlf: SdlfDependency;
  /** Whether `npm install` ran (and wrote package-lock.json). */
  readonly installed: boolean;
  /** Commands to run next, in order. */
  readonly nextSteps: readonly string[];
}

/** The answers of `sdlf init`, validated. */
/** What `sdlf init` asked: the values its templates are rendered from. */
export interface Answers {
  prefix: string;
  envName: string;
  account: string;
  region: string;
  cicd: boolean;
  cicdAccount: string;
  cicdRegion: string;
  repository: string;
}

/**
 * Creates a new sdlf project in `options.directory`: `ddk.json` (a cicd and one deployment environment),
 * `parameters.json` with the demoteam/legislators dataset, its light transform, Glue script and SQL, the
 * legislators sample data, `package.json`, `tsconfig.json`, `cdk.json`, `.gitignore` and a README.
 *
 * Each answer comes from its option, else a value inferred from the environment, else a default under `yes`,
 * else the prompter; when none gives it, an {@link SdlfError} names the flags to pass. Every answer is checked
 * with the loader's rules, and every physical name against its AWS limit, before anything is written. A
 * non-empty folder is refused without `force`. The files are written all-or-nothing.
 */
export async function initProject(options: InitProjectOptions, io: Io): Promise<InitProjectResult> {
  const root = resolve(options.directory);
  await assertUsableDirectory(root, options.force ?? false);
  const answers = await resolveAnswers(options, root, io);
  const projectId = options.projectId ?? randomUUID();
  if (!PROJECT_ID_PATTERN.test(projectId)) {
    throw new SdlfError(`Project id "${projectId}" is invalid: use 8-64 letters, digits or dashes.`, {
      code: 'INVALID_PROJECT_ID',
      suggestions: ['Leave out --project-id: sdlf init makes a new UUID.'],
    });
  }
  const environment = deploymentEnvironment(answers);
  const demo: DatasetConfig = {
    ...DEMO_DATASET,
    minItemsProcess: DEFAULTS.minItemsProcess,
    maxItemsProcess: DEFAULTS.maxItemsProcess,
  };
  const tooLong = checkProjectNames({ environments: [environment], datasets: { [environment.id]: [demo] } });
  if (tooLong.length > 0) throw SdlfError.fromProblems('The project would create names AWS does not accept:', tooLong);

  const placeholders: string[] = [];
  if (answers.account === PLACEHOLDER_ACCOUNT) placeholders.push(`environments.${answers.envName}.account`);
  if (answers.cicdAccount === PLACEHOLDER_ACCOUNT) placeholders.push('environments.cicd.account');

  const own = await ownPackage();
  const sdlf = resolveSdlfDependency({
    version: own.version,
    origin: options.sdlfOrigin ?? (await detectSdlfOrigin()),
    override: options.sdlfSpec,
  });
  const files = await planProject(answers, root, sdlf, projectId);
  const dryRun = options.dryRun ?? false;
  const changes = await writeFiles({ root, files }, { dryRun, force: options.force ?? false }, io);
  const installed = !dryRun && (options.install ?? true);
  if (installed) {
    io.info(`Installing the project's dependencies (npm install in ${root}); this writes package-lock.json…`);
    await runNpm(['install', '--no-audit', '--no-fund'], root);
  }
  if (placeholders.length > 0) {
    io.warn(
      `ddk.json holds the placeholder account ${PLACEHOLDER_ACCOUNT} in ${placeholders.join(' and ')}: replace it with your ` +
        'AWS account id before bootstrapping or deploying (or re-run with --account / --cicd-account).',
    );
  }
  return {
    root,
    dryRun: options.dryRun ?? false,
    projectId,
    prefix: answers.prefix,
    environment: { id: answers.envName, account: answers.account, region: answers.region },
    cicd: { enabled: answers.cicd, account: answers.cicdAccount, region: answers.cicdRegion, repository: answers.repository },
    dataset: { team: demo.team, dataset: demo.dataset, pipeline: demo.pipeline },
    placeholders,
    files: changes,
    sdlf,
    installed,
    nextSteps: [
      `cd ${root}`,
      ...(installed ? [] : ['npm install']),
      'npx sdlf validate',
      `npx sdlf run --local --team ${demo.team} --dataset ${demo.dataset}`,
      'npx sdlf synth',
    ],
  };
}

/** Refuses a path that is a file, or a non-empty folder without `force`. */
async function assertUsableDirectory(root: string, force: boolean): Promise<void> {
  if (!existsSync(root)) return;
  if (!statSync(root).isDirectory()) {
    throw new SdlfError(`Cannot create a project in ${root}: it is a file.`, {
      code: 'NOT_A_DIRECTORY',
      suggestions: ['Choose another folder name.'],
    });
  }
  const entries = await readdir(root);
  if (entries.length > 0 && !force) {
    const shown = entries.sort().slice(0, 5).join(', ');
    throw new SdlfError(
      `The folder ${root} is not empty (it holds ${shown}${entries.length > 5 ? ', …' : ''}); sdlf init will not write into it.`,
      {
        code: 'DIRECTORY_NOT_EMPTY',
        suggestions: [
          'Choose a new or empty folder, or re-run with --force to add the project files (existing files sdlf creates are overwritten, others are kept).',
        ],
      },
    );
  }
}

/** One question of `sdlf init`: its flag, its rule and how to ask it. */
interface Question {
  readonly flag: string;
  readonly message: string;
  readonly check: (value: string) => string | undefined;
  readonly suggest?: (value: string) => string;
}

const questions = {
  prefix: {
    flag: '--prefix',
    message: 'Resource prefix (starts every AWS resource name)',
    check: zodCheck(deploymentEnvironmentSchema.shape.resource_prefix.unwrap()),
    suggest: (value) => `Use 1-15 lowercase letters, digits or dashes, e.g. "${suggestPrefix(value)}".`,
  },
  envName: {
    flag: '--env-name',
    message: 'Environment name',
    check: (value) =>
      value === 'cicd'
        ? '"cicd" is the CI/CD environment; name the deployment environment otherwise'
        : ENVIRONMENT_NAME_PATTERN.test(value)
          ? undefined
          : 'must be 1-10 lowercase letters or digits, starting with a letter',
    suggest: () => 'Use a short name such as "dev", "test" or "prod".',
  },
  account: {
    flag: '--account',
    message: 'AWS account id of the environment',
    check: zodCheck(deploymentEnvironmentSchema.shape.account),
    suggest: () => 'Use the 12-digit account id, e.g. "111122223333" (see `aws sts get-caller-identity`).',
  },
  region: {
    flag: '--region',
    message: 'AWS region of the environment',
    check: zodCheck(deploymentEnvironmentSchema.shape.region),
    suggest: suggestRegion,
  },
  cicdAccount: {
    flag: '--cicd-account',
    message: 'AWS account id of the CI/CD pipeline',
    check: zodCheck(cicdEnvironmentSchema.shape.account),
    suggest: () => 'Use the 12-digit account id, e.g. "111122223333".',
  },
  cicdRegion: {
    flag: '--cicd-region',
    message: 'AWS region of the CI/CD pipeline',
    check: zodCheck(cicdEnvironmentSchema.shape.region),
    suggest: suggestRegion,
  },
  repository: {
    flag: '--repository',
    message: 'CodeCommit repository name',
    check: zodCheck(cicdEnvironmentSchema.shape.repository.unwrap()),
    suggest: () => 'Use 1-100 letters, digits, ".", "_" or "-".',
  },
} satisfies Record<Exclude<keyof Answers, 'cicd'>, Question>;

/** Checks a value given on the command line or inferred; throws naming where it came from. */
function checkGiven(question: Question, value: string, source: string): string {
  const problem = question.check(value);
  if (problem === undefined) return value;
  throw new SdlfError(`${source} "${value}" is invalid: ${problem}.`, {
    code: 'INVALID_INPUT',
    suggestions: question.suggest ? [question.suggest(value)] : [],
  });
}

/** Gathers the answers: flag → inferred → default under `yes` → prompt → error naming the flags still missing. */
async function resolveAnswers(options: InitProjectOptions, root: string, io: Io): Promise<Answers> {
  const given = {
    prefix: options.prefix,
    envName: options.envName,
    account: options.account,
    region: options.region,
    cicdAccount: options.cicdAccount,
    cicdRegion: options.cicdRegion,
    repository: options.repository,
  };
  // Every flag is checked before the first question, so a typo never costs a round of prompts.
  for (const [key, value] of Object.entries(given) as Array<[keyof typeof given, string | undefined]>) {
    if (value !== undefined) checkGiven(questions[key], value, questions[key].flag);
  }
  const inferredAccount = options.inferred?.account;
  const inferredRegion = options.inferred?.region;
  if (inferredAccount) checkGiven(questions.account, inferredAccount.value, inferredAccount.source);
  if (inferredRegion) checkGiven(questions.region, inferredRegion.value, inferredRegion.source);

  const missing: string[] = [];
  const yes = options.yes ?? false;
  const ask = async (question: Question, fallback: string): Promise<string> => {
    if (yes) return fallback;
    if (!options.prompter) {
      missing.push(question.flag);
      return fallback;
    }
    return options.prompter.input({
      message: question.message,
      default: fallback,
      validate: (value) => {
        const problem = question.check(value);
        return problem === undefined ? true : `"${value}" ${problem}`;
      },
    });
  };
  const fromInferred = (inferred: InferredValue | undefined, what: string): string | undefined => {
    if (!inferred) return undefined;
    io.info(`Using ${what} ${inferred.value} from ${inferred.source}.`);
    return inferred.value;
  };

  const prefix = given.prefix ?? (await ask(questions.prefix, DEFAULTS.resourcePrefix));
  const envName = given.envName ?? DEFAULT_ENV_NAME;
  const account =
    given.account ??
    fromInferred(inferredAccount, 'account') ??
    (await ask(questions.account, given.cicdAccount ?? PLACEHOLDER_ACCOUNT));
  const region =
    given.region ?? fromInferred(inferredRegion, 'region') ?? (await ask(questions.region, given.cicdRegion ?? DEFAULT_REGION));
  let cicd = options.cicd;
  if (cicd === undefined) {
    if (yes) cicd = false;
    else if (options.prompter) {
      cicd = await options.prompter.confirm({
        message: 'Deploy through a CI/CD pipeline (CodePipeline in a cicd account)?',
        default: false,
      });
    } else {
      missing.push('--cicd or --no-cicd');
      cicd = false;
    }
  }
  const defaultRepository = repositoryName(root);
  let cicdAccount = given.cicdAccount;
  let cicdRegion = given.cicdRegion;
  let repository = given.repository;
  if (cicd) {
    cicdAccount ??= await ask(questions.cicdAccount, account);
    cicdRegion ??= await ask(questions.cicdRegion, region);
    repository ??= await ask(questions.repository, defaultRepository);
  }
  if (missing.length > 0) {
    throw new SdlfError(`sdlf init needs ${missing.join(', ')}: there is no terminal to ask on.`, {
      code: 'MISSING_INPUT',
      suggestions: [`Pass ${missing.join(', ')} (or set their SDLF_* variables), or add --yes to accept the defaults.`],
    });
  }
  return {
    prefix,
    envName,
    account,
    region,
    cicd,
    // Without CI/CD the cicd environment only has to be valid: it defaults to the deployment environment.
    cicdAccount: cicdAccount ?? account,
    cicdRegion: cicdRegion ?? region,
    repository: repository ?? defaultRepository,
  };
}

/** The deployment environment as the loader would model it, for the name-length checks. */
function deploymentEnvironment(answers: Answers): DeploymentEnvironment {
  return {
    id: answers.envName,
    name: answers.envName,
    account: answers.account,
    region: answers.region,
    resourcePrefix: answers.prefix,
    manualApprovals: false,
    org: DEFAULTS.org,
    app: DEFAULTS.app,
    tags: {},
    removeDataOnDestroy: false,
    kmsStrategy: DEFAULTS.kmsStrategy,
    logRetentionDays: DEFAULTS.logRetentionDays,
  };
}

/** The view of the `project` template tree. */
export interface ProjectTemplateView {
  readonly packageName: string;
  /** `project_id` of ddk.json. */
  readonly projectId: string;
  readonly prefix: string;
  readonly env: { readonly id: string; readonly account: string; readonly region: string };
  readonly cicd: { readonly account: string; readonly region: string; readonly repository: string; readonly enabled: boolean };
  readonly demo: typeof DEMO_DATASET;
  readonly runLocalScript: string;
  /** The whole cdk.json: the app plain `cdk` runs and the feature flags of {@link recommendedFeatureFlags}. */
  readonly cdkJson: { readonly app: string; readonly context: Readonly<Record<string, unknown>> };
  readonly versions: {
    readonly sdlf: string;
    readonly typescript: string;
    readonly typesNode: string;
    readonly awsCdk: string;
  };
}

/** Builds the view of the `project` template tree from validated answers. */
export async function projectTemplateView(
  answers: Answers,
  name: string,
  sdlfSpec: string,
  projectId: string,
): Promise<ProjectTemplateView> {
  const own = await ownPackage();
  const dev = (name: string): string => {
    const range = own.devDependencies[name];
    if (range === undefined) throw new Error(`sdlf's package.json has no devDependency ${name}.`);
    return range;
  };
  return {
    packageName: name,
    projectId,
    prefix: answers.prefix,
    env: { id: answers.envName, account: answers.account, region: answers.region },
    cicd: { account: answers.cicdAccount, region: answers.cicdRegion, repository: answers.repository, enabled: answers.cicd },
    demo: DEMO_DATASET,
    runLocalScript: `sdlf run --local --team ${DEMO_DATASET.team} --dataset ${DEMO_DATASET.dataset}`,
    cdkJson: { app: 'node node_modules/sdlf/bin/cdk-app.js', context: recommendedFeatureFlags() },
    versions: { sdlf: sdlfSpec, typescript: dev('typescript'), typesNode: dev('@types/node'), awsCdk: dev('aws-cdk') },
  };
}

/** The running sdlf's package.json. */
export async function ownPackage(): Promise<{ version: string; devDependencies: Record<string, string> }> {
  return JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
    devDependencies: Record<string, string>;
  };
}

/**
 * Plans every file of the new project: the project tree, the demo dataset's transforms, SQL and sample data, and
 * the vendored sdlf tarball when the project depends on one.
 */
async function planProject(answers: Answers, root: string, sdlf: SdlfDependency, projectId: string): Promise<PlannedFile[]> {
  const view = await projectTemplateView(answers, packageName(root), sdlf.spec, projectId);
  const project = await renderTemplateTree('project', view);
  const sampleDir = projectPaths.sampleData(DEMO_DATASET.team, DEMO_DATASET.dataset);
  const sql = projectPaths.heavyTransformSql(DEMO_DATASET.stageBTransform);
  const dataset = (await renderTemplateTree('dataset', datasetTemplateView(DEMO_DATASET)))
    // The sample files below fill the data folder, so it needs no .gitkeep.
    .filter((file) => !file.path.startsWith(`${sampleDir}/`))
    // The demo's SQL builds the legislators tables instead of the generic starting point.
    .filter((file) => file.path !== sql);
  // Imported lazily: the generator is only needed here.
  const { renderLegislatorsSample } = await import('../samples/legislators.js');
  const sample = renderLegislatorsSample().map((file) => ({ path: `${sampleDir}/${file.path}`, contents: file.contents }));
  const legislatorsSql = await readFile(join(TEMPLATES_ROOT, 'legislators', 'transform.sql'));
  const files = [...project, ...dataset, ...sample, { path: sql, contents: new Uint8Array(legislatorsSql) }];
  if (sdlf.vendoredPath !== undefined) files.push({ path: sdlf.vendoredPath, contents: await packSdlf() });
  files.push(generatedManifestFile((await ownPackage()).version, project, view));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** An npm package name from the project folder's name. */
export function packageName(root: string): string {
  const name = basename(root)
    .toLowerCase()
    .replaceAll(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214);
  return name === '' ? 'sdlf-data-lake' : name;
}

/** A CodeCommit repository name from the project folder's name. */
function repositoryName(root: string): string {
  const name = basename(root)
    .replaceAll(/[^\w.-]+/g, '-')
    .slice(0, 100);
  return name === '' || name === '.' || name === '..' ? DEFAULTS.repository : name;
}

function zodCheck(schema: z.ZodType): (value: string) => string | undefined {
  return (value) => {
    const result = schema.safeParse(value);
    return result.success ? undefined : result.error.issues[0]?.message;
  };
}

function suggestRegion(value: string): string {
  const best = nearest(value, AWS_REGIONS);
  return best ? `Did you mean "${best}"?` : 'Use a region name such as "us-east-1".';
}

function suggestPrefix(value: string): string {
  const hint = value
    .toLowerCase()
    .replaceAll(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 15);
  return hint === '' ? DEFAULTS.resourcePrefix : hint;
}
