import { Flags } from '@oclif/core';
import { SdlfError } from '../core/errors.js';
import { DEFAULT_TIMEOUT_MINUTES } from '../core/wait.js';

/** Parses `--timeout`: a positive number of minutes (fractions allowed). */
export async function parseTimeoutMinutes(input: string): Promise<number> {
  const minutes = Number(input);
  if (input.trim() === '' || !Number.isFinite(minutes) || minutes <= 0) {
    throw new SdlfError(`--timeout "${input}" is not a number of minutes above 0.`, {
      code: 'INVALID_TIMEOUT',
      suggestions: [`Pass minutes, e.g. "--timeout ${DEFAULT_TIMEOUT_MINUTES}" or "--timeout 0.5" (or set SDLF_TIMEOUT).`],
    });
  }
  return minutes;
}

/** Flags that mean the same in every command; each has an `SDLF_` environment twin. */
export const sharedFlags = {
  path: Flags.directory({
    char: 'p',
    description:
      'Project root folder (default: the current folder, or the nearest folder above it with a ddk.json, as git finds its repository).',
    env: 'SDLF_PATH',
  }),
  env: Flags.string({
    description: 'Deployment environment from ddk.json (e.g. dev).',
    env: 'SDLF_ENV',
  }),
  'dry-run': Flags.boolean({
    description: 'Show what would change and change nothing.',
    env: 'SDLF_DRY_RUN',
    default: false,
  }),
  force: Flags.boolean({
    char: 'f',
    description: 'Overwrite existing files.',
    env: 'SDLF_FORCE',
    default: false,
  }),
  yes: Flags.boolean({
    char: 'y',
    description: 'Answer yes to every question; accept defaults instead of prompting.',
    env: 'SDLF_YES',
    default: false,
  }),
  verbose: Flags.boolean({
    description: 'Print detailed progress.',
    env: 'SDLF_VERBOSE',
    default: false,
  }),
  profile: Flags.string({
    description: 'AWS profile to use (defaults to the standard AWS credential chain).',
    env: 'SDLF_PROFILE',
  }),
  region: Flags.string({
    description: "AWS region (defaults to the environment's region in ddk.json).",
    env: 'SDLF_REGION',
  }),
  timeout: Flags.custom<number>({
    description: 'Minutes each wait for AWS may last without progress before the command gives up.',
    env: 'SDLF_TIMEOUT',
    helpValue: '<minutes>',
    parse: parseTimeoutMinutes,
    default: DEFAULT_TIMEOUT_MINUTES,
  })(),
};

/**
 * Defines the required `--team` and `--dataset` of a command that works on one dataset (env `SDLF_TEAM`,
 * `SDLF_DATASET`); `verb` completes the dataset's help: `Dataset to <verb>.`
 */
export function datasetFlags(verb: string) {
  return {
    team: Flags.string({ description: 'Team of the dataset.', required: true, env: 'SDLF_TEAM' }),
    dataset: Flags.string({ description: `Dataset to ${verb}.`, required: true, env: 'SDLF_DATASET' }),
  };
}

/** Optional `--team` and `--dataset` that narrow a listing (env `SDLF_TEAM`, `SDLF_DATASET`); `--dataset` needs `--team`. */
export const datasetFilterFlags = {
  team: Flags.string({ description: 'Only this team.', env: 'SDLF_TEAM' }),
  dataset: Flags.string({ description: 'Only this dataset (needs --team).', env: 'SDLF_DATASET', dependsOn: ['team'] }),
};
