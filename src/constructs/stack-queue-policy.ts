import { Stack } from 'aws-cdk-lib';
import { type AddToResourcePolicyResult, PolicyDocument, type PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnQueuePolicy, Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';

/**
 * The one `AWS::SQS::QueuePolicy` of a stack, shared by every {@link PolicySharingQueue} of it: an SQS queue has
 * a single policy, and a queue policy may apply one document to several queues, so the stack's queues need one
 * resource, not one each. Statements that differ only in their queue merge into one (aws-cdk-lib's policy
 * minimization), which keeps the document within SQS's 20 statements and 8,192 bytes. One per stack: use
 * {@link StackQueuePolicy.of}.
 */
export class StackQueuePolicy extends Construct {
  /** Returns the queue policy of the stack that holds `scope`, creating it on first use. */
  static of(scope: IConstruct): StackQueuePolicy {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(QUEUE_POLICY_ID);
    if (existing instanceof StackQueuePolicy) return existing;
    return new StackQueuePolicy(stack, QUEUE_POLICY_ID);
  }

  /** The statements, about any of the stack's queues. */
  readonly document = new PolicyDocument();
  /** The policy resource. */
  readonly resource: CfnQueuePolicy;
  private readonly queues: Queue[] = [];

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.resource = new CfnQueuePolicy(this, 'Resource', {
      policyDocument: this.document,
      queues: [],
    });
  }

  /** Applies the policy to `queue` (once) and adds `statement`. */
  add(queue: Queue, statement: PolicyStatement): AddToResourcePolicyResult {
    if (!this.queues.includes(queue)) {
      this.queues.push(queue);
      // A plain list, not a lazy one: cdk-nag's SQS4 reads the queues of a policy as they are.
      this.resource.queues = this.queues.map((q) => q.queueUrl);
    }
    this.document.addStatements(statement);
    return { statementAdded: true, policyDependable: this.resource };
  }
}

const QUEUE_POLICY_ID = 'QueuePolicy';

/**
 * Defines a queue whose resource policy statements (`addToResourcePolicy`, and so `enforceSSL`) go to the
 * {@link StackQueuePolicy} of its stack, rather than to a queue policy of its own.
 */
export class PolicySharingQueue extends Queue {
  /** Adds `statement` to the stack's queue policy, which then applies to this queue. */
  override addToResourcePolicy(statement: PolicyStatement): AddToResourcePolicyResult {
    return StackQueuePolicy.of(this).add(this, statement);
  }
}
