import { type App, Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Code, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, Pass } from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { MonitoredQueue } from '../../src/constructs/monitored-queue.js';
import { MonitoredStateMachine } from '../../src/constructs/monitored-state-machine.js';
import { S3EventCapture } from '../../src/constructs/s3-event-capture.js';
import { SdlfFunction } from '../../src/constructs/sdlf-function.js';
import { LAMBDA_RUNTIME, logRetention } from '../../src/constructs/settings.js';
import { physicalNames, testStack } from '../app/helpers.js';

const code = () => Code.fromInline('export const handler = async () => ({});');

describe('MonitoredQueue', () => {
  const queue = (props: Partial<ConstructorParameters<typeof MonitoredQueue>[2]> = {}) => {
    const stack = testStack();
    new MonitoredQueue(stack, 'Queue', {
      queueName: 'q',
      deadLetterQueueName: 'q-dlq',
      alarmTopic: new Topic(stack, 'Topic'),
      ...props,
    });
    return Template.fromStack(stack);
  };

  it('with defaults: standard queue, DLQ after 3 receives, 5 minute visibility, 14 day retention, TLS only, alarm', () => {
    const template = queue();
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'q',
      VisibilityTimeout: 300,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'q-dlq', MessageRetentionPeriod: 1209600 });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 0);
    // One queue policy for both queues, refusing non-TLS requests to each
    template.resourceCountIs('AWS::SQS::QueuePolicy', 1);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: Match.stringLikeRegexp('DeadLetterQueue') }, { Ref: Match.stringLikeRegexp('Queue') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('with custom props: FIFO from the name, receive count, visibility and retention', () => {
    const template = queue({
      queueName: 'q.fifo',
      deadLetterQueueName: 'q-dlq.fifo',
      maxReceiveCount: 5,
      visibilityTimeout: Duration.minutes(1),
      deadLetterRetention: Duration.days(4),
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'q.fifo',
      FifoQueue: true,
      VisibilityTimeout: 60,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'q-dlq.fifo',
      FifoQueue: true,
      MessageRetentionPeriod: 345600,
    });
  });

  it('throws when only one of the queue and its dead-letter queue is FIFO', () => {
    expect(() => queue({ queueName: 'q.fifo', deadLetterQueueName: 'q-dlq' })).toThrow('must both be FIFO or both standard');
  });

  it('two instances share no physical name', () => {
    const stack = testStack();
    const topic = new Topic(stack, 'Topic');
    new MonitoredQueue(stack, 'A', { queueName: 'a', deadLetterQueueName: 'a-dlq', alarmTopic: topic });
    new MonitoredQueue(stack, 'B', { queueName: 'b', deadLetterQueueName: 'b-dlq', alarmTopic: topic });
    expect(physicalNames(Template.fromStack(stack).toJSON().Resources)).toHaveLength(4);
  });
});

describe('MonitoredStateMachine', () => {
  const machine = (props: Partial<ConstructorParameters<typeof MonitoredStateMachine>[2]> = {}) => {
    const stack = testStack();
    new MonitoredStateMachine(stack, 'Machine', {
      stateMachineName: 'sm',
      definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Pass')),
      alarmTopic: new Topic(stack, 'Topic'),
      ...props,
    });
    return Template.fromStack(stack);
  };

  it('with defaults: 2 hour timeout, one-year execution logs, tracing and a failure alarm', () => {
    const template = machine();
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/sm', RetentionInDays: 365 });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'sm',
      TracingConfiguration: { Enabled: true },
    });
    expect(JSON.stringify(template.toJSON())).toContain('\\"TimeoutSeconds\\":7200');
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
  });

  it('acknowledges Resource "*" for tracing and log delivery only: another action on "*" fails cdk-nag', () => {
    const iam5 = (grantOnAny?: string) => {
      const stack = testStack();
      Validations.of(stack.node.root).addPlugins(new AwsSolutionsChecks(stack.node.root));
      const { stateMachine } = new MonitoredStateMachine(stack, 'Machine', {
        stateMachineName: 'sm',
        definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Pass')),
        alarmTopic: Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:222222222222:alarms'),
      });
      if (grantOnAny) stateMachine.addToRolePolicy(new PolicyStatement({ actions: [grantOnAny], resources: ['*'] }));
      try {
        (stack.node.root as App).synth();
        return '';
      } catch (error) {
        return String(error);
      }
    };
    expect(iam5()).toBe('');
    expect(iam5('s3:GetObject')).toContain('AwsSolutions::AwsSolutions-IAM5[Resource::*]');
  });

  it('with custom props: timeout and retention', () => {
    const template = machine({ timeout: Duration.minutes(5), logRetention: RetentionDays.THREE_MONTHS });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    expect(JSON.stringify(template.toJSON())).toContain('\\"TimeoutSeconds\\":300');
  });
});

describe('SdlfFunction', () => {
  it('with defaults: newest Node.js, ARM64, 256 MB, 1 minute, one-year log group, no managed policy', () => {
    const stack = testStack();
    new SdlfFunction(stack, 'Fn', { functionName: 'fn', code: code() });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'fn',
      Runtime: LAMBDA_RUNTIME.name,
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 60,
      Handler: 'index.handler',
    });
    expect(LAMBDA_RUNTIME.name).toBe('nodejs24.x');
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/fn', RetentionInDays: 365 });
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('with custom props: role name, memory, timeout, retention, environment', () => {
    const stack = testStack();
    new SdlfFunction(stack, 'Fn', {
      functionName: 'fn',
      roleName: 'fn-role',
      code: code(),
      memorySize: 512,
      timeout: Duration.seconds(10),
      logRetention: RetentionDays.ONE_WEEK,
      environment: { A: 'b' },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 10,
      Environment: { Variables: { A: 'b' } },
    });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'fn-role' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('S3EventCapture', () => {
  const capture = (props: { retryAttempts?: number } = {}) => {
    const stack = testStack();
    const target = new LambdaFunction(stack, 'Target', { code: code(), handler: 'index.handler', runtime: LAMBDA_RUNTIME });
    new S3EventCapture(stack, 'Capture', {
      bucket: Bucket.fromBucketName(stack, 'Raw', 'raw-bucket'),
      prefix: 'demoteam/legislators/',
      ruleName: 'rule',
      target,
      ...props,
    });
    return Template.fromStack(stack);
  };

  it('with defaults: Object Created events of the prefix go to the target, retried 8 times, invoked only by the rule', () => {
    const template = capture();
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'rule',
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: ['raw-bucket'] }, object: { key: [{ prefix: 'demoteam/legislators/' }] } },
      },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: Match.absent(),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CaptureRule'), 'Arn'] },
    });
  });

  it('with custom props: retry attempts, event age and a dead-letter queue for what EventBridge gives up on', () => {
    // Given a capture with a dead-letter queue
    const stack = testStack();
    const target = new LambdaFunction(stack, 'Target', { code: code(), handler: 'index.handler', runtime: LAMBDA_RUNTIME });
    const deadLetterQueue = Queue.fromQueueArn(stack, 'Dlq', 'arn:aws:sqs:us-east-1:222222222222:routing-dlq');
    new S3EventCapture(stack, 'Capture', {
      bucket: Bucket.fromBucketName(stack, 'Raw', 'raw-bucket'),
      prefix: 'demoteam/legislators/',
      ruleName: 'rule',
      target,
      retryAttempts: 2,
      maxEventAge: Duration.hours(2),
      deadLetterQueue,
    });
    // Then the target retries as told and names the queue
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:222222222222:routing-dlq' },
        }),
      ],
    });
  });
});

describe('logRetention', () => {
  it.each([
    [365, RetentionDays.ONE_YEAR],
    [30, RetentionDays.ONE_MONTH],
    [10, RetentionDays.TWO_WEEKS],
    [1, RetentionDays.ONE_DAY],
    [100_000, RetentionDays.INFINITE],
  ])('maps %i days to the shortest CloudWatch retention that keeps them (%s)', (days, expected) => {
    expect(logRetention(days)).toBe(expected);
  });
});
