/**
 * {@link WorkflowPort} on AWS Step Functions.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { StartWorkflowResult, WorkflowPort } from '../core/ports.js';
import { type ClientSource, clientGetter, isAwsError } from './clients.js';

const sdk = () => import('./sdk/sfn.js');

/** Execution ARN of a named execution of a state machine. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * Starts Step Functions executions by name. An execution of the same name that already ran (or runs with
 * another input) is reported as `started: false`, not as an error: names are the pipeline's idempotency keys.
 */
export class SfnWorkflow implements WorkflowPort {
  private readonly sfn: () => Promise<SFNClient>;

  /** @param sfn the client, or a function creating it on first use */
  constructor(sfn: ClientSource<SFNClient>) {
    this.sfn = clientGetter(sfn);
  }

  async start(stateMachine: string, name: string, input: unknown): Promise<StartWorkflowResult> {
    const [sfn, { StartExecutionCommand }] = await Promise.all([this.sfn(), sdk()]);
    try {
      const response = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: stateMachine, name, input: JSON.stringify(input) }),
      );
      return { runId: response.executionArn ?? executionArnOf(stateMachine, name), started: true };
    } catch (error) {
      if (isAwsError(error, 'ExecutionAlreadyExists')) return { runId: executionArnOf(stateMachine, name), started: false };
      throw error;
    }
  }
}
