import type { IIoHost, IoMessage } from '@aws-cdk/toolkit-lib';
import { environmentStacks } from '../aws/project-stacks.js';
import { type AwsCommandOptions, openSession } from '../aws/session.js';
import { namingOf, requireDeploymentEnvironment } from '../aws/target.js';
import type { Io } from '../core/io.js';
import { type ProjectAppBuilder, projectAssemblySource } from '../toolkit/assembly.js';
import { TOOLKIT_CODES } from '../toolkit/io-host.js';
import { createToolkit } from '../toolkit/toolkit.js';
import { embeddedApp } from './embedded-app.js';

/** Options of {@link diffProject}. */
export interface DiffProjectOptions extends AwsCommandOptions {
  /** Replaces the embedded app (tests). @default the package's app, {@link embeddedApp} */
  readonly app?: ProjectAppBuilder;
  /** Replaces the toolkit's IoHost (tests). */
  readonly ioHost?: IIoHost;
}

/** The difference between one stack's new template and the deployed one. */
export interface StackDiffResult {
  readonly name: string;
  /** Whether the stack would change (a stack not deployed yet always does). */
  readonly changed: boolean;
  /** `none`, `non-broadening` or `broadening` IAM/security changes. */
  readonly permissionChanges: string;
  /** The diff as `cdk diff` prints it. */
  readonly diff: string;
}

/** What {@link diffProject} found. */
export interface DiffProjectResult {
  readonly env: string;
  readonly account: string;
  readonly region: string;
  readonly stacks: readonly StackDiffResult[];
  /** How many stacks would change. */
  readonly changedStacks: number;
}

/**
 * Compares the environment's stacks, as the embedded app builds them now, with what is deployed, through
 * toolkit-lib's diff (the same as `cdk diff`). Changes nothing.
 */
export async function diffProject(options: DiffProjectOptions, io: Io): Promise<DiffProjectResult> {
  const { project, target } = await openSession(options, io);
  const environment = requireDeploymentEnvironment(target, 'diff');
  const names = environmentStacks(namingOf(target, environment), project.datasets[environment.id] ?? []).map((s) => s.name);
  const found = new Map<string, StackDiffResult>();
  const tap = (message: IoMessage<unknown>) => {
    if (message.code !== TOOLKIT_CODES.stackDiff) return;
    const data = message.data as {
      stack?: { stackName?: string };
      numStacksWithChanges?: number;
      permissionChanges?: string;
      formattedDiff?: { diff?: string };
    };
    const name = data.stack?.stackName;
    if (!name) return;
    found.set(name, {
      name,
      changed: (data.numStacksWithChanges ?? 0) > 0,
      permissionChanges: data.permissionChanges ?? 'none',
      diff: (data.formattedDiff?.diff ?? message.message).trimEnd(),
    });
  };
  const loaded = await createToolkit({ io, region: target.region, profile: options.profile, ioHost: options.ioHost, tap });
  const source = await projectAssemblySource(loaded, project, {
    app: options.app ?? embeddedApp(io),
    env: environment.id,
    cicd: false,
  });
  const { toolkit, lib } = loaded;
  const assembly = await toolkit.synth(source, { stacks: { strategy: lib.StackSelectionStrategy.ALL_STACKS } });
  try {
    const ids = new Map(assembly.cloudAssembly.stacksRecursively.map((s) => [s.stackName, s.hierarchicalId]));
    const selected = names.filter((name) => ids.has(name));
    await toolkit.diff(assembly, {
      stacks: { strategy: lib.StackSelectionStrategy.PATTERN_MUST_MATCH, patterns: selected.map((n) => ids.get(n) ?? n) },
    });
  } finally {
    await assembly.dispose();
  }
  const stacks = names.flatMap((name) => {
    const diff = found.get(name);
    return diff ? [diff] : [];
  });
  return {
    env: environment.id,
    account: target.account,
    region: target.region,
    stacks,
    changedStacks: stacks.filter((s) => s.changed).length,
  };
}
