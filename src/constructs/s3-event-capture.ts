import { Duration } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
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
  /** Longest EventBridge keeps retrying an event before giving up. @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
  /**
   * Standard SQS queue that receives the events EventBridge gave up on. Its policy must let this rule send (an
   * imported queue gets no statement added here). @default none: undelivered events are dropped
   */
  readonly deadLetterQueue?: IQueue;
}

/**
 * Captures "Object Created" events of one key prefix of a bucket through the bucket's native EventBridge
 * notifications (no notification custom resource) and sends them to a function, which may be invoked only by
 * this rule (the permission carries the rule's ARN as source). Failed deliveries are retried, then go to the
 * dead-letter queue when one is given.
 */
export class S3EventCapture extends Construct {
  /** The EventBridge rule. */
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: S3EventCaptureProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 8;
    const maxEventAge = props.maxEventAge ?? Duration.hours(24);
    this.rule = new Rule(this, 'Rule', {
      ruleName: props.ruleName,
      description: `Objects created under ${props.prefix}`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [props.bucket.bucketName] }, object: { key: [{ prefix: props.prefix }] } },
      },
      targets: [new LambdaTarget(props.target, { retryAttempts, maxEventAge, deadLetterQueue: props.deadLetterQueue })],
    });
  }
}
