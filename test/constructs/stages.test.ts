import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { Naming } from '../../src/config/naming.js';
import { HeavyTransformStage } from '../../src/constructs/heavy-transform-stage.js';
import { LightTransformStage } from '../../src/constructs/light-transform-stage.js';
import { LAMBDA_RUNTIME } from '../../src/constructs/settings.js';
import { COMMON_ENV, HANDLER_ENV } from '../../src/runtime/contract.js';
import { identityStatements, physicalNames, testStack } from '../app/helpers.js';

const naming = new Naming({ prefix: 'ddk', env: 'dev', account: '222222222222', region: 'us-east-1' });
/** The alarm topic of the foundations, by its name. */
const alarmTopicArn = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sns:us-east-1:222222222222:${naming.alarmTopic()}`]],
};
const code = () => Code.fromInline('export const handler = async () => ({});');
const codes = () => ({ routing: code(), stageATrigger: code(), step: code() });

function lightStage(props: Partial<ConstructorParameters<typeof LightTransformStage>[2]> = {}) {
  const stack = testStack();
  const stage = new LightTransformStage(stack, 'Light', {
    naming,
    team: 'demoteam',
    pipeline: 'standard',
    code: codes(),
    ...props,
  });
  return { stage, template: Template.fromStack(stack) };
}

function heavyStage(props: Partial<ConstructorParameters<typeof HeavyTransformStage>[2]> = {}) {
  const stack = testStack();
  const step = new LambdaFunction(stack, 'Step', { code: code(), handler: 'index.handler', runtime: LAMBDA_RUNTIME });
  new HeavyTransformStage(stack, 'Heavy', {
    naming,
    team: 'demoteam',
    pipeline: 'standard',
    stepFunction: step,
    triggerCode: code(),
    ...props,
  });
  return { template: Template.fromStack(stack) };
}

/** The logical id of the stage B wake queue. */
function wakeQueueId(template: Template): string {
  const ids = Object.keys(
    template.findResources('AWS::SQS::Queue', { Properties: { QueueName: Match.stringLikeRegexp('-stage-b-wake$') } }),
  );
  if (ids.length !== 1) throw new Error(`expected one wake queue, found ${ids.length}`);
  return ids[0] as string;
}

/** The state machine's definition, with CloudFormation intrinsics flattened to text. */
function definition(template: Template): Record<string, unknown> {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (!machine) throw new Error('no state machine in the template');
  const body = (machine.Properties as { DefinitionString: unknown }).DefinitionString;
  const text =
    typeof body === 'string'
      ? body
      : (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
          .map((part) => (typeof part === 'string' ? part : 'TOKEN'))
          .join('');
  return JSON.parse(text);
}

describe('LightTransformStage', () => {
  describe('with defaults', () => {
    const { template } = lightStage();

    it('creates the FIFO stage A queue with a dead-letter queue after 3 receives, watched by the stage alarm', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'ddk-dev-demoteam-standard-stage-a.fifo',
        FifoQueue: true,
        ContentBasedDeduplication: false,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 360,
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'ddk-dev-demoteam-standard-stage-a-dlq.fifo',
        MessageRetentionPeriod: 1209600,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            Id: 'stageADeadLetters',
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible' }),
              Period: 60,
              Stat: 'Maximum',
            }),
          }),
        ]),
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [alarmTopicArn],
      });
    });

    it('creates routing, step and trigger functions on the newest Node.js runtime, ARM64, logging to the pipeline log group', () => {
      for (const fn of ['routing', 'step', 'stage-a-trigger'] as const) {
        const name = naming.pipelineFunction('demoteam', 'standard', fn);
        template.hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: name,
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          MemorySize: 256,
          Timeout: 60,
          Role: Match.anyValue(),
          LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^PipelineLogGroup') } },
        });
        template.hasResourceProperties('AWS::IAM::Role', { RoleName: naming.pipelineRole('demoteam', 'standard', fn) });
      }
      template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
      // One log group for the stage's functions and state machine, and no policy beside the roles' inline ones
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: '/aws/vendedlogs/ddk-dev-demoteam-standard',
        RetentionInDays: 365,
      });
      template.resourceCountIs('AWS::IAM::Policy', 0);
    });

    it('sets exactly the environment of the runtime contract', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'ddk-dev-demoteam-standard-routing',
        Environment: {
          Variables: {
            [COMMON_ENV.prefix]: 'ddk',
            [COMMON_ENV.env]: 'dev',
            [COMMON_ENV.objectMetadataTable]: Match.anyValue(),
            [COMMON_ENV.datasetsTable]: Match.anyValue(),
            [COMMON_ENV.pipelinesTable]: Match.anyValue(),
            [COMMON_ENV.executionHistoryTable]: Match.anyValue(),
            [COMMON_ENV.executionTtlDays]: '90',
            [HANDLER_ENV.routing.team]: 'demoteam',
            [HANDLER_ENV.routing.pipeline]: 'standard',
            [HANDLER_ENV.routing.stageAQueueUrl]: Match.anyValue(),
          },
        },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'ddk-dev-demoteam-standard-stage-a-trigger',
        Environment: { Variables: Match.objectLike({ [HANDLER_ENV['stage-a-trigger'].stateMachineArn]: Match.anyValue() }) },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'ddk-dev-demoteam-standard-step',
        Environment: {
          Variables: Match.objectLike({
            [HANDLER_ENV.step.stageBucket]: Match.anyValue(),
            [HANDLER_ENV.step.analyticsBucket]: Match.anyValue(),
            [HANDLER_ENV.step.stageADeadLetterQueueUrl]: Match.anyValue(),
          }),
        },
      });
    });

    it('reads the keys of the foundations from typed SSM parameters, knows every other name, and uses no export', () => {
      const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
      const ssm = Object.values(parameters).filter((p) => p.Type === 'AWS::SSM::Parameter::Value<String>');
      const foundations = ssm.map((p) => p.Default).filter((name) => name.startsWith('/ddk/'));
      expect(foundations).toEqual(['/ddk/dev/foundations/keys/data']);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [COMMON_ENV.objectMetadataTable]: 'ddk-dev-object-metadata' }) },
      });
      expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
    });

    it('triggers on batches of 10 messages and reports partial batch failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('runs pre-update → Process (the function named in the input) → post-update, and records any failure', () => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: 'ddk-dev-demoteam-standard-stage-a',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: Match.anyValue() },
      });
      const asl = definition(template) as {
        StartAt: string;
        TimeoutSeconds: number;
        States: Record<string, Record<string, unknown>>;
      };
      expect(asl.StartAt).toBe('PreUpdate');
      expect(asl.TimeoutSeconds).toBe(1800);
      expect(asl.States.PreUpdate).toMatchObject({
        Next: 'Process',
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' }],
      });
      expect(asl.States.Process).toMatchObject({
        Parameters: {
          'FunctionName.$': '$$.Execution.Input.lightTransformFunction',
          Payload: { 'key.$': '$$.Execution.Input.key' },
        },
        Next: 'PostUpdate',
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }],
        Retry: [expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.TooManyRequestsException']) })],
      });
      expect(asl.States.RecordFailure).toMatchObject({ Next: 'Failed' });
      expect(asl.States.Failed).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    });

    it('names its state machine role for the dataset stacks, which grant it their own light transform: it grants none by pattern', () => {
      template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'ddk-dev-demoteam-standard-stage-a' });
      // Nothing here names another dataset's function, queue or job by a pattern (see DatasetResources)
      const text = JSON.stringify(template.toJSON());
      expect(text).not.toMatch(/ddk-dev-demoteam-\*-(light-transform|stage-b|heavy-transform)/);
    });

    it('counts the events routing drops from its log lines, by function, and alarms on any', () => {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: Match.stringLikeRegexp('^PipelineLogGroup') },
        FilterPattern: '{ $.message = "Dropped*" }',
        MetricTransformations: [
          {
            MetricNamespace: 'sdlf',
            MetricName: 'DroppedEvents',
            MetricValue: '1',
            Dimensions: [{ Key: 'FunctionName', Value: '$.function_name' }],
          },
        ],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          {
            Id: 'droppedEvents',
            MetricStat: {
              Metric: {
                Namespace: 'sdlf',
                MetricName: 'DroppedEvents',
                Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^LightRoutingFunction') } }],
              },
              Stat: 'Sum',
              Period: 60,
            },
            ReturnData: false,
          },
        ]),
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [alarmTopicArn],
        AlarmDescription: Match.stringLikeRegexp(
          '4 = ddk-dev-demoteam-standard-routing dropped events.*register the dataset \\("sdlf add-dataset"\\) and upload it again',
        ),
      });
    });

    it('alarms once over its faults, the value naming them: dead letters, routing dead letters, dropped events, failed executions', () => {
      // One alarm for the stage, its value the sum of 2^i over the faults
      template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            Expression:
              'IF(FILL(stageADeadLetters, 0) > 0, 1, 0) + IF(FILL(routingDeadLetters, 0) > 0, 2, 0) + IF(FILL(droppedEvents, 0) > 0, 4, 0) + IF(FILL((FILL(stageAFailures_failed, 0) + FILL(stageAFailures_timedOut, 0) + FILL(stageAFailures_aborted, 0)), 0) > 0, 8, 0)',
            ReturnData: true,
          }),
          Match.objectLike({ Id: 'stageAFailures_failed', MetricStat: Match.objectLike({ Stat: 'Sum', Period: 60 }) }),
        ]),
        EvaluationPeriods: 1,
        AlarmActions: [alarmTopicArn],
        // And the description says which number is which queue, function or state machine
        AlarmDescription: Match.stringLikeRegexp(
          '^Stage A of demoteam.s standard pipeline needs attention\\. .*1 = messages of ddk-dev-demoteam-standard-stage-a\\.fifo .*2 = .*ddk-dev-demoteam-standard-routing-dlq; 4 = .*8 = executions of ddk-dev-demoteam-standard-stage-a failed',
        ),
      });
    });

    it("keeps the events EventBridge cannot deliver to routing in a standard, encrypted queue that only the team's dataset rules may send to", () => {
      // Given the stage of demoteam's standard pipeline
      // Then the routing dead-letter queue is a standard queue (EventBridge requires it) with SSE-SQS
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'ddk-dev-demoteam-standard-routing-dlq',
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
        FifoQueue: Match.absent(),
      });
      // And its policy lets EventBridge send only for demoteam's dataset rules, over TLS only
      const queueArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^LightRoutingDeadLetterQueue'), 'Arn'] };
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: queueArn,
              Condition: {
                ArnLike: {
                  'aws:SourceArn': {
                    'Fn::Join': [
                      '',
                      ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:222222222222:rule/ddk-dev-demoteam.*-raw'],
                    ],
                  },
                },
              },
            }),
          ]),
        },
      });
      // And one message there alarms the alarm topic
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            Id: 'routingDeadLetters',
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({
                MetricName: 'ApproximateNumberOfMessagesVisible',
                Dimensions: [
                  {
                    Name: 'QueueName',
                    Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LightRoutingDeadLetterQueue'), 'QueueName'] },
                  },
                ],
              }),
            }),
          }),
        ]),
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [alarmTopicArn],
      });
      // And the stack's three queues share one queue policy, which refuses non-TLS requests to each of them
      template.resourceCountIs('AWS::SQS::QueuePolicy', 1);
      const arnOf = (id: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${id}`), 'Arn'] });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^LightRoutingDeadLetterQueue') }]),
        PolicyDocument: {
          Statement: Match.arrayWith(
            ['LightQueueDeadLetterQueue', 'LightQueue[0-9A-F]{8}$', 'LightRoutingDeadLetterQueue'].map((id) =>
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: arnOf(id) }),
            ),
          ),
        },
      });
      expect(template.findResources('AWS::SQS::QueuePolicy')).toSatisfy(
        (policies: Record<string, { Properties: { Queues: unknown[] } }>) =>
          Object.values(policies).every((policy) => policy.Properties.Queues.length === 3),
      );
    });
  });

  describe('with custom props', () => {
    it('applies log retention, batch size, execution timeout and receive count', () => {
      const { template } = lightStage({
        logRetention: RetentionDays.ONE_MONTH,
        batchSize: 5,
        executionTimeout: Duration.minutes(10),
        maxReceiveCount: 7,
      });
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5 });
      expect((definition(template) as { TimeoutSeconds: number }).TimeoutSeconds).toBe(600);
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 7 },
      });
    });
  });

  describe('two instances', () => {
    it('of two teams share no physical name', () => {
      const stack = testStack();
      new LightTransformStage(stack, 'A', { naming, team: 'sales', pipeline: 'standard', code: codes() });
      new LightTransformStage(stack, 'B', { naming, team: 'marketing', pipeline: 'standard', code: codes() });
      const names = physicalNames(Template.fromStack(stack).toJSON().Resources);
      expect(names.length).toBeGreaterThan(15);
      expect(new Set(names).size).toBe(names.length);
    });
  });
});

describe('HeavyTransformStage', () => {
  describe('with defaults', () => {
    const { template } = heavyStage();

    it('runs the Glue job named in the input with glue:startJobRun.sync and the batch arguments', () => {
      const asl = definition(template) as { TimeoutSeconds: number; States: Record<string, Record<string, unknown>> };
      expect(asl.TimeoutSeconds).toBe(6 * 3600);
      expect(asl.States.RunGlueJob).toMatchObject({
        Type: 'Task',
        Parameters: {
          'JobName.$': '$$.Execution.Input.glueJob',
          Arguments: {
            '--manifest.$': '$$.Execution.Input.manifest',
            '--team.$': '$$.Execution.Input.team',
            '--dataset.$': '$$.Execution.Input.dataset',
            '--database.$': '$$.Execution.Input.glueDatabase',
            '--execution-id.$': '$$.Execution.Input.executionId',
          },
        },
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' }],
        Next: 'PostUpdate',
      });
      // No polling loop: the .sync integration waits, and FAILED/STOPPED/TIMEOUT/ERROR fail the task into Catch
      expect(JSON.stringify(template.toJSON())).toContain(':states:::glue:startJobRun.sync');
      expect(Object.values(asl.States).map((state) => state.Type)).not.toContain('Wait');
      expect(Object.values(asl.States).map((state) => state.Type)).not.toContain('Choice');
    });

    it('names its state machine role for the dataset stacks, which grant it their own Glue job: it grants none by pattern', () => {
      template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'ddk-dev-demoteam-standard-stage-b' });
      const text = JSON.stringify(template.toJSON());
      expect(text).not.toContain('glue:StartJobRun');
      expect(text).not.toMatch(/ddk-dev-demoteam-\*-(light-transform|stage-b|heavy-transform)/);
    });

    it('lets the step function read the job results under manifests/{team}/', () => {
      // Given the stage B of demoteam, whose post-update reads <manifest>.result.json (its error step's dead-letter
      // queue is granted by the dataset's stack)
      const artifacts = naming.bucket('artifacts');
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^StepServiceRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['s3:GetObject', 's3:GetObjectVersion'],
              Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${artifacts}/manifests/demoteam/*`]] },
            }),
            // It lists only the team's manifests, so a missing result is told from a denied read (S3ObjectStore)
            Match.objectLike({
              Action: 's3:ListBucket',
              Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${artifacts}`]] },
              Condition: { StringLike: { 's3:prefix': ['manifests/demoteam/*'] } },
            }),
            Match.objectLike({
              Action: 'kms:Decrypt',
              Resource: { Ref: Match.stringLikeRegexp('^SsmParameterValueddkdevfoundationskeysdata') },
            }),
          ]),
        },
      });
    });

    it("grants the trigger no dataset's stage B queue (each dataset stack grants its own), only its wake queue", () => {
      // The trigger's role holds its grants inline
      const statements = identityStatements(template.toJSON().Resources).map(({ statement }) => statement);
      expect(statements.length).toBeGreaterThan(0);
      const receiving = statements.filter((statement) => JSON.stringify(statement.Action).includes('sqs:ReceiveMessage'));
      expect(receiving.map((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [wakeQueueId(template), 'Arn'] }]);
      expect(JSON.stringify(template.toJSON())).not.toMatch(/ddk-dev-demoteam-\*-(light-transform|stage-b|heavy-transform)/);
    });

    it("keeps the trigger's and executions' logs for one year, in the pipeline's one log group", () => {
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: '/aws/vendedlogs/ddk-dev-demoteam-standard', RetentionInDays: 365 },
        DeletionPolicy: 'Delete',
      });
      const logGroup = { 'Fn::GetAtt': [Match.stringLikeRegexp('^PipelineLogGroup'), 'Arn'] };
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        LoggingConfiguration: { Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: logGroup } }] },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'ddk-dev-demoteam-standard-stage-b-trigger',
        LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^PipelineLogGroup') } },
      });
    });

    it('is woken by its wake queue, gathering the wakes of 5 minutes into one invocation, and by no schedule', () => {
      template.resourceCountIs('AWS::Events::Rule', 0);
      template.resourceCountIs('AWS::Lambda::Permission', 0);
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'ddk-dev-demoteam-standard-stage-b-wake',
        SqsManagedSseEnabled: true,
        // A 5-minute window, a 5-minute run and the stage B messages' 5 minutes of visibility.
        VisibilityTimeout: 900,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [wakeQueueId(template), 'Arn'] },
        FunctionName: { Ref: Match.stringLikeRegexp('^HeavyTriggerFunction') },
        BatchSize: 10_000,
        MaximumBatchingWindowInSeconds: 300,
        ScalingConfig: { MaximumConcurrency: 2 },
      });
      // The step function's stage A post-update sends the wakes.
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { [HANDLER_ENV.step.stageBWakeQueueUrl]: { Ref: wakeQueueId(template) } } },
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['sqs:SendMessage']),
              Resource: { 'Fn::GetAtt': [wakeQueueId(template), 'Arn'] },
            }),
          ]),
        },
        Roles: [{ Ref: Match.stringLikeRegexp('^StepServiceRole') }],
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'ddk-dev-demoteam-standard-stage-b-trigger',
        Timeout: 300,
        Environment: {
          Variables: Match.objectLike({
            [HANDLER_ENV['stage-b-trigger'].team]: 'demoteam',
            [HANDLER_ENV['stage-b-trigger'].pipeline]: 'standard',
            [HANDLER_ENV['stage-b-trigger'].stateMachineArn]: Match.anyValue(),
            [HANDLER_ENV['stage-b-trigger'].artifactsBucket]: Match.anyValue(),
          }),
        },
      });
    });
  });

  describe('with custom props', () => {
    it('refuses a wait beyond the 5 minutes of a batching window, or under a second', () => {
      expect(() => heavyStage({ wait: Duration.minutes(30) })).toThrow(
        "HeavyTransformStage wait must be whole seconds between 1 second and 5 minutes (Lambda's batching window), got 30 minutes.",
      );
      expect(() => heavyStage({ wait: Duration.millis(500) })).toThrow('got 500 millis.');
    });

    it('applies the wait, log retention and execution timeout', () => {
      const { template } = heavyStage({
        wait: Duration.minutes(2),
        logRetention: RetentionDays.ONE_WEEK,
        executionTimeout: Duration.hours(1),
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: 120 });
      template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 720 });
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
      expect((definition(template) as { TimeoutSeconds: number }).TimeoutSeconds).toBe(3600);
    });
  });

  describe('two instances', () => {
    it('of two pipelines of a team share no physical name', () => {
      const stack = testStack();
      const step = new LambdaFunction(stack, 'Step', { code: code(), handler: 'index.handler', runtime: LAMBDA_RUNTIME });
      for (const pipeline of ['standard', 'fast']) {
        new HeavyTransformStage(stack, pipeline, { naming, team: 'demoteam', pipeline, stepFunction: step, triggerCode: code() });
      }
      const names = physicalNames(Template.fromStack(stack).toJSON().Resources);
      expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
      expect(names).toContain('AWS::SQS::Queue ddk-dev-demoteam-fast-stage-b-wake');
    });
  });
});
