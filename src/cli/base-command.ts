import { Command, type Interfaces } from '@oclif/core';
import { findProjectRoot } from '../config/project-root.js';
import type { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import type { AwsCommandOptions } from '../services/command-options.js';
import { sharedFlags } from './flags.js';
import { toOclifError } from './oclif-error.js';
import { createConsoleIo } from './terminal.js';

/** Flags of a command class, parsed. */
export type CommandFlags<T extends typeof Command> = Omit<
  Interfaces.InferredFlags<(typeof SdlfCommand)['baseFlags'] & T['flags']>,
  'path'
> & {
  /** `--path`, or the project found from the current folder (see `SdlfCommand.findsProject`). */
  path: string;
};
/** Args of a command class, parsed. */
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * Base of every sdlf command: `--json`, `--path` and `--verbose` everywhere, parsed flags and args on `this`,
 * and an {@link Io} that writes progress to stderr. Subclasses implement `run()` by calling one service and
 * returning its result; `present()` prints it for people when `--json` is off.
 */
export abstract class SdlfCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    path: sharedFlags.path,
    verbose: sharedFlags.verbose,
  };

  /** Whether a run without `--path` looks for the project from the current folder up (not so for `sdlf init`). */
  static findsProject = true;

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  protected io!: Io;

  public override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof SdlfCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    // Without --path, the project is found from the current folder upwards; `sdlf init` creates one in it instead.
    const given = flags as { path?: string };
    given.path ??= (this.ctor as typeof SdlfCommand).findsProject ? (findProjectRoot(process.cwd()) ?? '.') : '.';
    this.flags = flags as unknown as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
    const yes = (flags as { yes?: boolean }).yes ?? false;
    this.io = createConsoleIo({ verbose: this.flags.verbose, yes });
  }

  /**
   * Hands an {@link SdlfError} to oclif as oclif's own error, and keeps the exit code of user mistakes (2) under
   * `--json` too; oclif would use 1.
   */
  protected override async catch(thrown: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const error: Error & { exitCode?: number; oclif?: { exit?: number } } = toOclifError(thrown);
    process.exitCode = error.oclif?.exit ?? error.exitCode ?? 1;
    return super.catch(error);
  }

  /** The project and AWS target the command acts on: `--path`, and `--env`, `--profile`, `--region` where it has them. */
  protected get awsTarget(): AwsCommandOptions {
    const flags = this.flags as { path: string; env?: string; profile?: string; region?: string };
    return { root: flags.path, env: flags.env, profile: flags.profile, region: flags.region };
  }

  /** Whether a person can answer prompts (stdin and stderr are terminals). */
  protected get interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stderr.isTTY);
  }
}
