import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, MathExpression, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
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
  /**
   * Topic the queue's own dead-letter alarm notifies. @default no alarm of its own: the owner alarms on
   * {@link MonitoredQueue.deadLetterMetric}, e.g. in one {@link alarmOnFaults} alarm of a team pipeline
   */
  readonly alarmTopic?: ITopic;
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
  /** Messages visible in the dead-letter queue (maximum per minute). */
  readonly deadLetterMetric: IMetric;
  /** The alarm on the dead-letter queue, with {@link MonitoredQueueProps.alarmTopic}. */
  readonly deadLetterAlarm?: Alarm;

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
    this.deadLetterMetric = deadLetterMetric(this.deadLetterQueue);
    if (props.alarmTopic) {
      this.deadLetterAlarm = alarmOnAny(
        this,
        'DeadLetterAlarm',
        this.deadLetterMetric,
        props.alarmTopic,
        `Messages of ${props.queueName} failed ${maxReceiveCount} times and wait in ${props.deadLetterQueueName}; fix the cause, then "sdlf redrive".`,
      );
    }
  }
}

/**
 * Defines the alarm of a dead-letter queue: it notifies `topic` as soon as one message is visible in `queue`.
 * {@link MonitoredQueue} uses it for its dead-letter queue; use it alone for a dead-letter queue that has no source
 * queue, such as an EventBridge target's.
 */
export function alarmOnDeadLetters(scope: Construct, id: string, queue: IQueue, topic: ITopic, description: string): Alarm {
  return alarmOnAny(scope, id, deadLetterMetric(queue), topic, description);
}

/** The messages visible in a dead-letter queue, the maximum per minute. */
export function deadLetterMetric(queue: IQueue): IMetric {
  return queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });
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

/** One condition of a {@link alarmOnFaults} alarm: a metric that is above 0 when something needs attention. */
export interface AlarmFault {
  /** Metric id in the alarm's expression: a lowercase letter, then letters and digits. */
  readonly id: string;
  /** The metric; its period becomes the alarm's. */
  readonly metric: IMetric;
  /** What is wrong when the metric is above 0, and what to do, e.g. `messages wait in {queue}: "sdlf redrive"`. */
  readonly fault: string;
}

/**
 * Defines one alarm over several faults, notifying `topic` as soon as any metric is above 0 for one minute. The
 * alarm's value says which: fault `i` adds `2^i` (`IF(FILL(m, 0) > 0, 2^i, 0)`), and the description lists each
 * fault with its number, so the alarm's state reason ("1 datapoint [5.0] was greater than the threshold") names
 * the queues or state machines at fault. No data is not an alarm.
 */
export function alarmOnFaults(
  scope: Construct,
  id: string,
  faults: readonly AlarmFault[],
  topic: ITopic,
  summary: string,
): Alarm {
  const period = Duration.minutes(1);
  const terms = faults.map(inlined);
  const metrics = terms.reduce((count, term) => count + Object.keys(term.usingMetrics).length, 0);
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html
  if (faults.length === 0 || metrics > 10) throw new Error(`An alarm watches 1 to 10 metrics; ${id} has ${metrics}.`);
  const expression = terms.map((term, i) => `IF(FILL(${term.expression}, 0) > 0, ${2 ** i}, 0)`).join(' + ');
  const legend = faults.map((f, i) => `${2 ** i} = ${f.fault}`).join('; ');
  return alarmOnAny(
    scope,
    id,
    new MathExpression({
      expression,
      usingMetrics: Object.assign({}, ...terms.map((term) => term.usingMetrics)),
      period,
      label: 'faults',
    }),
    topic,
    `${summary} The value is the sum of the faults: ${legend}.`,
  );
}

/**
 * A fault's metric as a term of the alarm's expression: a metric by its id; a math expression inlined, its metric
 * ids prefixed with the fault's (two state machines' expressions both name a metric `failed`).
 */
function inlined(fault: AlarmFault): { expression: string; usingMetrics: Record<string, IMetric> } {
  if (!(fault.metric instanceof MathExpression)) return { expression: fault.id, usingMetrics: { [fault.id]: fault.metric } };
  const ids = Object.keys(fault.metric.usingMetrics);
  const rename = (name: string) => `${fault.id}_${name}`;
  const expression = fault.metric.expression.replaceAll(/\b[a-z][A-Za-z0-9_]*\b/g, (word) =>
    ids.includes(word) ? rename(word) : word,
  );
  const usingMetrics = Object.fromEntries(
    Object.entries(fault.metric.usingMetrics).map(([name, metric]) => [rename(name), metric]),
  );
  return { expression: `(${expression})`, usingMetrics };
}
