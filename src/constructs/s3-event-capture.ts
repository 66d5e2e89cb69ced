import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of an {@link S3EventCapture}. */
export interface S3EventCaptureProps {
  /** Bucket whose "Object Created" events are captured; must have EventBridge notifications on. */
  readonly bucket: IBucket;
  /** Key prefix to capture, e.g. `team/dataset/`. */
  readonly prefix: string;
  /** Physical name of the rule (from the naming module). */
  readonly ruleName: string;
  /** The function the events go to (routing). */
  readonly target: IFunction;
  /** Retries of a failed delivery before EventBridge gives up. @default 8 */
  readonly retryAttempts?: number;
}

/**
 * Captures "Object Created" events of one key prefix of a bucket through the bucket's native EventBridge
 * notifications (no notification custom resource) and sends them to a function, which may be invoked only by
 * this rule (the permission carries the rule's ARN as source).
 */
export class S3EventCapture extends Construct {
  /** The EventBridge rule. */
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: S3EventCaptureProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 8;
    this.rule = new Rule(this, 'Rule', {
      ruleName: props.ruleName,
      description: `Objects created under ${props.prefix}`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [props.bucket.bucketName] }, object: { key: [{ prefix: props.prefix }] } },
      },
      targets: [new LambdaTarget(props.target, { retryAttempts })],
    });
  }
}
