import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { CfnSecurityConfiguration } from 'aws-cdk-lib/aws-glue';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnResource as LakeFormationResource } from 'aws-cdk-lib/aws-lakeformation';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { BucketKind, Naming, TableKind } from '../config/naming.js';
import { METADATA_KEYS } from '../runtime/contract.js';
import { acknowledgeCheckov } from './checkov.js';
import { acknowledge, acknowledgeWildcards } from './nag.js';

/** Buckets whose objects are encrypted with a customer-managed key (the access-log bucket cannot be: S3 server access logging only writes SSE-S3). */
export const KEYED_BUCKET_KINDS = ['raw', 'stage', 'analytics', 'athena', 'artifacts'] as const satisfies readonly BucketKind[];
/** A bucket encrypted with a customer-managed key. */
export type KeyedBucketKind = (typeof KEYED_BUCKET_KINDS)[number];
/** Buckets registered with Lake Formation as data locations. */
export const LAKE_LOCATION_KINDS = ['raw', 'stage', 'analytics'] as const satisfies readonly BucketKind[];

/**
 * Keys of the SSM parameters the foundations write under `/{prefix}/{env}/foundations/`, for the other stacks: the
 * ARNs of the keys, which KMS makes up. Everything else the other stacks use has a name they derive from the
 * project's naming (buckets, tables, the alarm topic, the Glue security configuration), so it needs no parameter.
 */
export const FOUNDATIONS_PARAMETERS = {
  /** ARN of the key that encrypts a bucket. */
  bucketKey: (kind: KeyedBucketKind) => `keys/${kind}`,
} as const;

/** How the data buckets are encrypted. */
export type KmsStrategy = 'shared' | 'per-bucket';

/** Properties of {@link Foundations}. */
export interface FoundationsProps {
  /** Names of the environment. */
  readonly naming: Naming;
  /** What happens to buckets, tables and keys when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** `shared`: one key for every data bucket; `per-bucket`: one key each. @default 'shared' */
  readonly kmsStrategy?: KmsStrategy;
  /** E-mail address subscribed to the alarm topic. @default no subscription */
  readonly notificationEmail?: string;
  /** Days Athena query results are kept. @default 30 */
  readonly athenaResultsExpiration?: Duration;
}

/**
 * Defines what every pipeline of an environment shares: the raw, stage, analytics, Athena-results and artifacts
 * buckets (SSL only, versioned, private, access-logged, KMS-encrypted), their access-log bucket, the metadata
 * tables, the Lake Formation registration of the data locations, the Glue security configuration, the alarm
 * topic, and the SSM parameters through which the other stacks find the keys (they know every other name). By default one customer-managed
 * key encrypts the data and the alarm topic (CloudWatch cannot publish to a topic under an AWS-managed key, so
 * the key lets CloudWatch of this account use it); with `kmsStrategy: 'per-bucket'`, each keyed bucket and the
 * alarm topic have their own.
 */
export class Foundations extends Construct {
  /** Buckets by kind. */
  readonly buckets: Readonly<Record<BucketKind, Bucket>>;
  /** Key of each keyed bucket (the same key for all under the shared strategy). */
  readonly bucketKeys: Readonly<Record<KeyedBucketKind, Key>>;
  /** Key of the alarm topic: the data key under the shared strategy. */
  readonly alarmKey: Key;
  /** Metadata tables by kind. */
  readonly tables: Readonly<Record<TableKind, Table>>;
  /** Topic every alarm notifies. */
  readonly alarmTopic: Topic;
  /** Role Lake Formation uses to read and write the registered locations. */
  readonly lakeFormationRole: Role;
  /** The Glue security configuration jobs run with. */
  readonly glueSecurityConfiguration: CfnSecurityConfiguration;
  /** The parameters written for the other stacks, by key. */
  readonly parameters: Readonly<Record<string, StringParameter>>;

  constructor(scope: Construct, id: string, props: FoundationsProps) {
    super(scope, id);
    const naming = props.naming;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const kmsStrategy = props.kmsStrategy ?? 'shared';
    const athenaResultsExpiration = props.athenaResultsExpiration ?? Duration.days(30);
    const stack = Stack.of(this);
    // Access logs are delivered under a bucket policy rather than an ACL (the current CDK recommendation).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    const newKey = (keyId: string, purpose: string) =>
      new Key(this, keyId, {
        alias: naming.kmsAlias(purpose),
        description: `sdlf ${naming.context.prefix}-${naming.context.env}: ${purpose}`,
        enableKeyRotation: true,
        // A key is kept as long as the data it encrypts.
        removalPolicy,
        pendingWindow: Duration.days(30),
      });
    const sharedKey = kmsStrategy === 'shared' ? newKey('DataKey', 'data') : undefined;
    const bucketKeys = Object.fromEntries(
      KEYED_BUCKET_KINDS.map((kind) => [kind, sharedKey ?? newKey(`${pascal(kind)}Key`, kind)]),
    ) as Record<KeyedBucketKind, Key>;
    this.bucketKeys = bucketKeys;
    this.alarmKey = sharedKey ?? newKey('AlarmKey', 'alarms');
    this.alarmKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    const accessLogs = new Bucket(this, 'AccessLogsBucket', {
      bucketName: naming.bucket('access-logs'),
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    acknowledge(accessLogs, 'AwsSolutions-S1', 'This is the access-log bucket; logging it into itself would loop.');
    acknowledgeCheckov(accessLogs, 'CKV_AWS_18', 'This is the access-log bucket; logging it into itself would loop.');
    const dataBucket = (kind: KeyedBucketKind, extra: { expiration?: Duration } = {}) =>
      new Bucket(this, `${pascal(kind)}Bucket`, {
        bucketName: naming.bucket(kind),
        encryption: BucketEncryption.KMS,
        encryptionKey: bucketKeys[kind],
        bucketKeyEnabled: true,
        enforceSSL: true,
        versioned: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${kind}/`,
        removalPolicy,
        lifecycleRules: [
          { abortIncompleteMultipartUploadAfter: Duration.days(7) },
          ...(extra.expiration ? [{ expiration: extra.expiration, noncurrentVersionExpiration: Duration.days(1) }] : []),
        ],
      });
    this.buckets = {
      raw: dataBucket('raw'),
      stage: dataBucket('stage'),
      analytics: dataBucket('analytics'),
      athena: dataBucket('athena', { expiration: athenaResultsExpiration }),
      artifacts: dataBucket('artifacts'),
      'access-logs': accessLogs,
    };
    // The bucket's native EventBridge notifications: the L2 `eventBridgeEnabled` would add a Lambda-backed
    // notification custom resource.
    (this.buckets.raw.node.defaultChild as CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };

    const newTable = (kind: TableKind, tableId: string, partitionKey: string, ttlAttribute?: string) => {
      const table = new Table(this, tableId, {
        tableName: naming.table(kind),
        partitionKey: { name: partitionKey, type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: ttlAttribute,
        removalPolicy,
      });
      acknowledgeCheckov(
        table,
        'CKV_AWS_119',
        'Encrypted at rest with the AWS-managed DynamoDB key (aws/dynamodb): it holds pipeline metadata (object keys, statuses, counts), no records of the data, and a customer-managed key would add KMS requests to every pipeline step.',
      );
      return table;
    };
    const history = newTable(
      'execution-history',
      'ExecutionHistoryTable',
      METADATA_KEYS.executionHistory.partitionKey,
      METADATA_KEYS.executionHistory.ttlAttribute,
    );
    const index = METADATA_KEYS.executionHistory.datasetIndex;
    history.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.tables = {
      'object-metadata': newTable('object-metadata', 'ObjectMetadataTable', METADATA_KEYS.objectMetadata.partitionKey),
      datasets: newTable('datasets', 'DatasetsTable', METADATA_KEYS.datasets.partitionKey),
      pipelines: newTable('pipelines', 'PipelinesTable', METADATA_KEYS.pipelines.partitionKey),
      'execution-history': history,
    };

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      topicName: naming.alarmTopic(),
      displayName: `sdlf ${naming.context.prefix}-${naming.context.env} alarms`,
      masterKey: this.alarmKey,
      enforceSSL: true,
    });
    if (props.notificationEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.notificationEmail));

    this.lakeFormationRole = new Role(this, 'LakeFormationRole', {
      roleName: naming.environmentRole('lakeformation'),
      assumedBy: new ServicePrincipal('lakeformation.amazonaws.com'),
      description: 'Lake Formation data access role for the registered sdlf data locations',
    });
    for (const kind of LAKE_LOCATION_KINDS) {
      this.buckets[kind].grantReadWrite(this.lakeFormationRole);
      new LakeFormationResource(this, `${pascal(kind)}Location`, {
        resourceArn: this.buckets[kind].bucketArn,
        useServiceLinkedRole: false,
        roleArn: this.lakeFormationRole.roleArn,
      });
    }
    acknowledgeWildcards(this.lakeFormationRole, 'Lake Formation vends access to any object of the registered data buckets.', [
      /^Action::s3:/,
      /^Action::kms:/,
      /^Resource::<[A-Za-z0-9]+\.Arn>\/\*$/,
    ]);

    const glueKey = bucketKeys.artifacts;
    glueKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.glueSecurityConfiguration = new CfnSecurityConfiguration(this, 'GlueSecurityConfiguration', {
      name: naming.glueSecurityConfiguration(),
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: bucketKeys.analytics.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: glueKey.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: glueKey.keyArn },
      },
    });

    const parameters: Record<string, StringParameter> = {};
    const parameter = (key: string, value: string, description: string) => {
      parameters[key] = new StringParameter(this, `Parameter${pascal(key.replaceAll('/', '-'))}`, {
        parameterName: naming.foundationsParameter(key),
        stringValue: value,
        description,
      });
    };
    for (const kind of KEYED_BUCKET_KINDS) {
      parameter(FOUNDATIONS_PARAMETERS.bucketKey(kind), bucketKeys[kind].keyArn, `ARN of the key of the ${kind} bucket`);
    }
    this.parameters = parameters;
  }
}

/** `access-logs` → `AccessLogs`. */
export function pascal(value: string): string {
  return value
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
