import { App, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { Project } from '../../src/config/model.js';
import { Naming, SDLF_TAG_KEYS, uniquePipelines } from '../../src/config/naming.js';
import { METADATA_KEYS } from '../../src/runtime/core/model.js';
import type { ProjectAssemblyProps } from '../../src/toolkit/assembly.js';

/**
 * moto's CloudFormation mishandles template tags of AWS::SSM::Parameter (later calls fail with 500), so those
 * resources stay untagged here.
 */
/**
 * A small stand-in for the embedded app with the real stack names, tags and dependencies: foundations (KMS key,
 * raw and stage buckets, execution history table, a parameter), one stack per team pipeline (stage A FIFO queue +
 * DLQ) and one per dataset (stage B FIFO queue + DLQ, dataset parameter). Data stores are retained, as by default.
 */
export async function buildFixtureApp(project: Project, props: ProjectAssemblyProps) {
  const app = new App({ outdir: props.outdir, context: props.context });
  for (const environment of project.environments.filter((e) => props.environment === undefined || e.id === props.environment)) {
    const naming = Naming.forEnvironment(environment);
    const env = { account: environment.account, region: environment.region };
    const tag = (stack: Stack, extra: Record<string, string> = {}) => {
      Tags.of(stack).add(SDLF_TAG_KEYS.project, environment.resourcePrefix);
      Tags.of(stack).add(SDLF_TAG_KEYS.environment, environment.id);
      for (const [k, v] of Object.entries(extra)) Tags.of(stack).add(k, v);
    };
    const foundations = new Stack(app, naming.foundationsStack(), { env, stackName: naming.foundationsStack() });
    tag(foundations);
    for (const kind of ['raw', 'stage'] as const) {
      new Bucket(foundations, kind === 'raw' ? 'RawBucket' : 'StageBucket', {
        bucketName: naming.bucket(kind),
        // moto's KMS rejects keys whose policy came from CloudFormation, so the data key (alias from naming,
        // sdlf tags) is created by the test through the KMS API, as a key retained from an earlier deploy.
        encryption: BucketEncryption.S3_MANAGED,
        versioned: true,
        enforceSSL: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    const history = new Table(foundations, 'ExecutionHistory', {
      tableName: naming.table('execution-history'),
      partitionKey: { name: METADATA_KEYS.executionHistory.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    history.addGlobalSecondaryIndex({
      indexName: METADATA_KEYS.executionHistory.datasetIndex.name,
      partitionKey: { name: METADATA_KEYS.executionHistory.datasetIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: METADATA_KEYS.executionHistory.datasetIndex.sortKey, type: AttributeType.STRING },
    });
    untag(
      new StringParameter(foundations, 'RawBucketName', {
        parameterName: naming.foundationsParameter('raw-bucket'),
        stringValue: naming.bucket('raw'),
      }),
    );

    const datasets = project.datasets[environment.id] ?? [];
    const pipelineStacks = new Map<string, Stack>();
    for (const { team, pipeline } of uniquePipelines(datasets)) {
      const stack = new Stack(app, naming.pipelineStack(team, pipeline), {
        env,
        stackName: naming.pipelineStack(team, pipeline),
      });
      tag(stack, { [SDLF_TAG_KEYS.team]: team });
      stack.addStackDependency(foundations);
      const dlq = new Queue(stack, 'StageADeadLetterQueue', {
        queueName: naming.stageADeadLetterQueue(team, pipeline),
        fifo: true,
        enforceSSL: true,
      });
      new Queue(stack, 'StageAQueue', {
        queueName: naming.stageAQueue(team, pipeline),
        fifo: true,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: 1 },
      });
      pipelineStacks.set(`${team}/${pipeline}`, stack);
    }
    for (const d of datasets) {
      const stack = new Stack(app, naming.datasetStack(d.team, d.dataset), {
        env,
        stackName: naming.datasetStack(d.team, d.dataset),
      });
      tag(stack, { [SDLF_TAG_KEYS.team]: d.team, [SDLF_TAG_KEYS.dataset]: d.dataset });
      const pipelineStack = pipelineStacks.get(`${d.team}/${d.pipeline}`);
      if (pipelineStack) stack.addStackDependency(pipelineStack);
      const dlq = new Queue(stack, 'StageBDeadLetterQueue', {
        queueName: naming.stageBDeadLetterQueue(d.team, d.dataset),
        fifo: true,
        enforceSSL: true,
      });
      new Queue(stack, 'StageBQueue', {
        queueName: naming.stageBQueue(d.team, d.dataset),
        fifo: true,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: 1 },
      });
      untag(
        new StringParameter(stack, 'DatasetParameter', {
          parameterName: naming.datasetParameter(d.team, d.dataset),
          stringValue: JSON.stringify({ team: d.team, dataset: d.dataset, pipeline: d.pipeline }),
        }),
      );
    }
  }
  return app.synth();
}

function untag(scope: Construct): void {
  for (const key of Object.values(SDLF_TAG_KEYS)) Tags.of(scope).remove(key);
}
