import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** One entry of a resource's `Metadata.checkov.skip`, the form checkov reads from a CloudFormation template. */
interface CheckovSkip {
  readonly id: string;
  readonly comment: string;
}

/**
 * Records in the template, on the resource of `construct` (itself or its default child), why one checkov check does
 * not apply to it. checkov reads `Metadata.checkov.skip` and reports the check as skipped with this reason, in
 * sdlf's tests and in a project's own pipeline alike; any other failed check still fails.
 */
export function acknowledgeCheckov(construct: IConstruct, checkId: string, reason: string): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to record checkov's ${checkId} on.`);
  }
  const skip = ((resource.getMetadata('checkov') as { skip?: CheckovSkip[] } | undefined)?.skip ?? []).filter(
    (entry) => entry.id !== checkId,
  );
  resource.addMetadata('checkov', { skip: [...skip, { id: checkId, comment: reason }] });
}

/** Records why checkov's KMS check does not apply to a queue encrypted with SSE-SQS. */
export function acknowledgeSqsManagedEncryption(queue: IConstruct): void {
  acknowledgeCheckov(
    queue,
    'CKV_AWS_27',
    'Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check does not read: it looks for a KMS key only.',
  );
}
