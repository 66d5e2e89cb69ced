import type { AwsClients } from '../aws/clients.js';
import { type AwsCommandOptions, openSession, targetFlags } from '../aws/session.js';
import { describeStack } from '../aws/stacks.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import type { WaitLimits } from '../core/wait.js';
import { runStep, type StepOutcome } from './delete-all/execute.js';
import { discoverInventory } from './delete-all/inventory.js';
import { type DeleteStep, describeStep, planDeletion } from './delete-all/plan.js';

export { type DeleteStep, describeStep } from './delete-all/plan.js';

/** Options of {@link deleteAll}. */
export interface DeleteAllOptions extends AwsCommandOptions, WaitLimits {
  /** Prints the plan and changes nothing. @default false */
  readonly dryRun?: boolean;
  /** Also deletes the CodeCommit repository (with `--env cicd`). @default false */
  readonly includeRepository?: boolean;
  /** Also deletes the CDK bootstrap stack when no other stack uses it. @default false */
  readonly includeBootstrap?: boolean;
  /** When aborted (Ctrl-C), the current step finishes and no further step starts. */
  readonly signal?: AbortSignal;
}

/** One step of the result, with what happened to it. */
export interface DeleteAllStepResult {
  readonly step: DeleteStep;
  readonly description: string;
  /** `planned` under `--dry-run` or when the run stopped before it. */
  readonly status: 'planned' | StepOutcome;
}

/** What {@link deleteAll} did or would do. */
export interface DeleteAllResult {
  readonly env: string;
  readonly account: string;
  readonly region: string;
  readonly dryRun: boolean;
  /** False when the user answered no: nothing was deleted. */
  readonly confirmed: boolean;
  readonly steps: readonly DeleteAllStepResult[];
  /** What was found and deliberately left alone, with the reason. */
  readonly untouched: readonly string[];
}

/**
 * Deletes what the project deployed in one environment, safely: it builds a plan from the project's own stack
 * names and `sdlf:*` tags only, prints it, asks (or takes `--yes`; without a terminal it refuses), then runs it
 * step by step (see {@link planDeletion}). `dryRun` prints the plan and changes nothing. Local files and `.git`
 * are never touched. A re-run after a failure or Ctrl-C continues: finished steps find nothing left and are skipped.
 */
export async function deleteAll(options: DeleteAllOptions, io: Io): Promise<DeleteAllResult> {
  const { project, target, clients } = await openSession(options, io, { allowCicd: true });
  const inventory = await discoverInventory(clients, project, target, {
    includeRepository: options.includeRepository ?? false,
    includeBootstrap: options.includeBootstrap ?? false,
  });
  const steps = planDeletion(inventory);
  const base = { env: target.envId, account: target.account, region: target.region, untouched: inventory.untouched };
  const planned = steps.map((step): DeleteAllStepResult => ({ step, description: describeStep(step), status: 'planned' }));
  if (options.dryRun || steps.length === 0) {
    if (steps.length === 0)
      io.info(`Nothing of the project is left in environment "${target.envId}" (aws://${target.account}/${target.region}).`);
    return { ...base, dryRun: options.dryRun ?? false, confirmed: steps.length === 0, steps: planned };
  }

  io.info(`delete-all plan for environment "${target.envId}" in aws://${target.account}/${target.region}:`);
  for (const [index, step] of planned.entries()) io.info(`  ${String(index + 1).padStart(2)}. ${step.description}`);
  for (const line of inventory.untouched) io.info(`  not touched: ${line}`);
  const confirmed = await io.confirm(
    `Delete everything listed above from aws://${target.account}/${target.region}? This cannot be undone.`,
  );
  if (!confirmed) {
    io.info('Nothing was deleted.');
    return { ...base, dryRun: false, confirmed: false, steps: planned };
  }

  const flags = targetFlags(options, target, target.environment?.region ?? project.cicd.region);
  const resumeCommand = `sdlf delete-all --env ${target.envId}${options.includeRepository ? ' --include-repository' : ''}${options.includeBootstrap ? ' --include-bootstrap' : ''}${flags}`;
  const results: DeleteAllStepResult[] = [...planned];
  for (const [index, entry] of planned.entries()) {
    if (options.signal?.aborted) {
      throw new SdlfError(`Stopped at your request after ${index} of ${planned.length} steps; the rest is still in place.`, {
        code: 'INTERRUPTED',
        suggestions: [`Run "${resumeCommand}" to continue where it stopped.`],
      });
    }
    const state = () => stacksState(clients, steps);
    const status = await runStep(clients, entry.step, io, { ...waitLimits(options), resumeCommand, state });
    results[index] = { ...entry, status };
  }
  io.info(`Deleted the project's resources from environment "${target.envId}". Local files were not touched.`);
  return { ...base, dryRun: false, confirmed: true, steps: results };
}

const waitLimits = ({ timeoutMinutes, pollingIntervalMs, clock }: WaitLimits): WaitLimits => ({
  timeoutMinutes,
  pollingIntervalMs,
  clock,
});

/** Which stacks of the plan are gone and which remain, in what status; told when a wait times out. */
async function stacksState(clients: AwsClients, steps: readonly DeleteStep[]): Promise<string[]> {
  const lines: string[] = [];
  for (const step of steps) {
    if (step.kind !== 'delete-stack' && step.kind !== 'delete-bootstrap') continue;
    const stack = await describeStack(clients, step.stack);
    lines.push(stack ? `left: stack ${step.stack} (${stack.status})` : `gone: stack ${step.stack}`);
  }
  return lines;
}
