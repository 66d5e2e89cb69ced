import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, type Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVE_COUNT } from '../runtime/contract.js';
import { acknowledgeSqsManagedEncryption } from './checkov.js';
import { PolicySharingQueue } from './stack-queue-policy.js';

/** Properties of a {@link MonitoredQueue}. */
export interface MonitoredQueueProps {
  /** Physical name of the queue; ends with `.fifo` for a FIFO queue. */
  readonly queueName: string;
  /** Physical name of its dead-letter queue; ends with `.fifo` when the queue does. */
  readonly deadLetterQueueName: string;
  /** Topic the dead-letter alarm notifies. */
  readonly alarmTopic: ITopic;
  /** How long a received message stays invisible; at least the consumer's timeout. @default Duration.minutes(5) */
  readonly visibilityTimeout?: Duration;
  /** Receives before a message moves to the dead-letter queue. @default MAX_RECEIVE_COUNT (3) */
  readonly maxReceiveCount?: number;
  /** How long a dead letter is kept for inspection and redrive. @default Duration.days(14) */
  readonly deadLetterRetention?: Duration;
}

/**
 * Defines a queue that cannot lose messages silently: a dead-letter queue after `maxReceiveCount` receives, and a
 * CloudWatch alarm to the alarm topic as soon as one message lands there. Both queues are encrypted (SSE-SQS) and
 * refuse non-TLS requests. FIFO when the name ends with `.fifo`.
 */
export class MonitoredQueue extends Construct {
  /** The queue. */
  readonly queue: Queue;
  /** Its dead-letter queue. */
  readonly deadLetterQueue: Queue;
  /** The alarm on the dead-letter queue. */
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: MonitoredQueueProps) {
    super(scope, id);
    const fifo = props.queueName.endsWith('.fifo');
    if (fifo !== props.deadLetterQueueName.endsWith('.fifo')) {
      throw new Error(
        `Queue ${props.queueName} and its dead-letter queue ${props.deadLetterQueueName} must both be FIFO or both standard.`,
      );
    }
    const visibilityTimeout = props.visibilityTimeout ?? Duration.minutes(5);
    const maxReceiveCount = props.maxReceiveCount ?? MAX_RECEIVE_COUNT;
    const deadLetterRetention = props.deadLetterRetention ?? Duration.days(14);

    this.deadLetterQueue = new PolicySharingQueue(this, 'DeadLetterQueue', {
      queueName: props.deadLetterQueueName,
      fifo: fifo || undefined,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: deadLetterRetention,
    });
    this.queue = new PolicySharingQueue(this, 'Queue', {
      queueName: props.queueName,
      fifo: fifo || undefined,
      contentBasedDeduplication: fifo ? false : undefined,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout,
      retentionPeriod: deadLetterRetention,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    acknowledgeSqsManagedEncryption(this.deadLetterQueue);
    acknowledgeSqsManagedEncryption(this.queue);
    this.deadLetterAlarm = alarmOnDeadLetters(
      this,
      'DeadLetterAlarm',
      this.deadLetterQueue,
      props.alarmTopic,
      `Messages of ${props.queueName} failed ${maxReceiveCount} times and wait in ${props.deadLetterQueueName}; fix the cause, then "sdlf redrive".`,
    );
  }
}

/**
 * Defines the alarm of a dead-letter queue: it notifies `topic` as soon as one message is visible in `queue`.
 * {@link MonitoredQueue} uses it for its dead-letter queue; use it alone for a dead-letter queue that has no source
 * queue, such as an EventBridge target's.
 */
export function alarmOnDeadLetters(scope: Construct, id: string, queue: IQueue, topic: ITopic, description: string): Alarm {
  const metric = queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });
  return alarmOnAny(scope, id, metric, topic, description);
}

/** Defines an alarm that notifies `topic` as soon as `metric` is above 0 for one period; no data is not an alarm. */
export function alarmOnAny(scope: Construct, id: string, metric: IMetric, topic: ITopic, description: string): Alarm {
  const alarm = new Alarm(scope, id, {
    alarmDescription: description,
    metric,
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(topic));
  return alarm;
}
