/**
 * The `step` function: one entry for the pre-update, post-update and error states of both stages.
 */
import type { LightTransformOutput, StepInput } from '../contract.js';
import { MalformedInputError, type PipelineDeps } from './deps.js';
import type { ExecutionItem } from './model.js';
import { type OnErrorResult, stageAOnError, stageAPostUpdate, stageAPreUpdate } from './stage-a.js';
import { stageBOnError, stageBPostUpdate, stageBPreUpdate } from './stage-b.js';

/** Settings of the `step` function. */
export interface StepOptions {
  /** Days an execution history item is kept. */
  readonly ttlDays: number;
  /** The team pipeline's stage A dead-letter queue. */
  readonly stageADeadLetterQueueUrl: string;
  /** The stage bucket (stage B's staged keys live there). */
  readonly stageBucket: string;
  /** Stage B's wake queue, woken by stage A post-update. @default none (a pipeline without stage B) */
  readonly stageBWakeQueueUrl?: string;
}

/** What a step returns to the state machine. */
export type StepResult = ExecutionItem | OnErrorResult;

/**
 * Runs one step of a stage A or stage B execution, as the state machine's task input names it. Throws
 * {@link MalformedInputError} for an input without a known `step` and `execution.stage`.
 */
export async function runStep(input: StepInput, deps: Omit<PipelineDeps, 'workflow'>, options: StepOptions): Promise<StepResult> {
  const execution = input?.execution;
  if (!execution || (execution.stage !== 'a' && execution.stage !== 'b')) {
    throw new MalformedInputError(
      'step input',
      `"execution.stage" must be "a" or "b", got ${JSON.stringify((execution as { stage?: unknown } | undefined)?.stage)}`,
    );
  }
  switch (input.step) {
    case 'pre-update':
      return execution.stage === 'a'
        ? stageAPreUpdate(execution, deps, { ttlDays: options.ttlDays })
        : stageBPreUpdate(execution, deps, { ttlDays: options.ttlDays });
    case 'post-update':
      return execution.stage === 'a'
        ? stageAPostUpdate(execution, input.result as LightTransformOutput, deps, {
            wakeQueueUrl: options.stageBWakeQueueUrl,
          })
        : stageBPostUpdate(execution, input.result, deps);
    case 'error':
      return execution.stage === 'a'
        ? stageAOnError(execution, input.error, deps, {
            deadLetterQueueUrl: options.stageADeadLetterQueueUrl,
            ttlDays: options.ttlDays,
          })
        : stageBOnError(execution, input.error, deps, { ttlDays: options.ttlDays, stageBucket: options.stageBucket });
    default:
      throw new MalformedInputError(
        'step input',
        `"step" must be "pre-update", "post-update" or "error", got ${JSON.stringify((input as { step?: unknown }).step)}`,
      );
  }
}
