import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { CfnSecurityConfiguration } from 'aws-cdk-lib/aws-glue';
import { PolicyStatement, type Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
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
import { InlinePolicyRole } from './inline-policy-role.js';
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
  /** ARN of the key that encrypts a bucket, under the `per-bucket` strategy. */
  bucketKey: (kind: KeyedBucketKind) => `keys/${kind}`,
  /** ARN of the one key of every keyed bucket, under the `shared` strategy. */
  sharedKey: 'keys/data',
} as const;

/** How the data buckets are encrypted. */
export type KmsStrategy = 'shared' | 'per-bucket';

/**
 * Context key of the environment's {@link KmsStrategy}, which the app sets on every stack so that
 * `FoundationsReferences` reads the key parameters the foundations wrote (`keys/data`, or one per bucket).
 */
export const KMS_STRATEGY_CONTEXT = 'sdlf:kmsStrategy';

/** The key parameter that holds the ARN of the key of `kind`'s bucket under `strategy`. */
export function bucketKeyParameter(strategy: KmsStrategy, kind: KeyedBucketKind): string {
  return strategy === 'shared' ? FOUNDATIONS_PARAMETERS.sharedKey : FOUNDATIONS_PARAMETERS.bucketKey(kind);
}

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

  private readonly naming: Naming;
  /** What happens to buckets, tables and keys when the stack is deleted. */
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: FoundationsProps) {
    super(scope, id);
    this.naming = props.naming;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const kmsStrategy = props.kmsStrategy ?? 'shared';
    const athenaResultsExpiration = props.athenaResultsExpiration ?? Duration.days(30);
    // Access logs are delivered under a bucket policy rather than an ACL (the current CDK recommendation).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    const sharedKey = kmsStrategy === 'shared' ? this.addKey('DataKey', 'data') : undefined;
    this.bucketKeys = this.addBucketKeys(sharedKey);
    this.alarmKey = sharedKey ?? this.addKey('AlarmKey', 'alarms');
    this.grantCloudWatchAlarmKey();
    this.buckets = this.addBuckets(athenaResultsExpiration);
    this.tables = this.addTables();
    this.alarmTopic = this.addAlarmTopic(props.notificationEmail);
    this.lakeFormationRole = this.addLakeFormationRole();
    this.addLakeLocations();
    this.grantLogsGlueKey();
    this.glueSecurityConfiguration = this.addGlueSecurityConfiguration();
    this.parameters = this.addParameters(kmsStrategy);
  }

  /** A customer-managed key with automatic rotation, under the alias of its purpose. */
  private addKey(keyId: string, purpose: string): Key {
    const { naming } = this;
    return new Key(this, keyId, {
      alias: naming.kmsAlias(purpose),
      description: `sdlf ${naming.context.prefix}-${naming.context.env}: ${purpose}`,
      enableKeyRotation: true,
      // A key is kept as long as the data it encrypts.
      removalPolicy: this.removalPolicy,
      pendingWindow: Duration.days(30),
    });
  }

  /** The key of each keyed bucket: the shared key, or one key per bucket. */
  private addBucketKeys(sharedKey: Key | undefined): Record<KeyedBucketKind, Key> {
    return Object.fromEntries(
      KEYED_BUCKET_KINDS.map((kind) => [kind, sharedKey ?? this.addKey(`${pascal(kind)}Key`, kind)]),
    ) as Record<KeyedBucketKind, Key>;
  }

  /** Lets CloudWatch of this account publish to the alarm topic, which the alarm key encrypts. */
  private grantCloudWatchAlarmKey(): void {
    this.alarmKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
  }

  /** The access-log bucket, then the keyed buckets that log into it; raw notifies EventBridge. */
  private addBuckets(athenaResultsExpiration: Duration): Record<BucketKind, Bucket> {
    const accessLogs = this.addAccessLogsBucket();
    const buckets = {
      raw: this.addDataBucket('raw', accessLogs),
      stage: this.addDataBucket('stage', accessLogs),
      analytics: this.addDataBucket('analytics', accessLogs),
      athena: this.addDataBucket('athena', accessLogs, athenaResultsExpiration),
      artifacts: this.addDataBucket('artifacts', accessLogs),
      'access-logs': accessLogs,
    };
    // The bucket's native EventBridge notifications: the L2 `eventBridgeEnabled` would add a Lambda-backed
    // notification custom resource.
    (buckets.raw.node.defaultChild as CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    return buckets;
  }

  /** The bucket of the other buckets' server access logs (SSE-S3, the only encryption S3 logging writes). */
  private addAccessLogsBucket(): Bucket {
    const accessLogs = new Bucket(this, 'AccessLogsBucket', {
      bucketName: this.naming.bucket('access-logs'),
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: this.removalPolicy,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    acknowledge(accessLogs, 'AwsSolutions-S1', 'This is the access-log bucket; logging it into itself would loop.');
    acknowledgeCheckov(accessLogs, 'CKV_AWS_18', 'This is the access-log bucket; logging it into itself would loop.');
    return accessLogs;
  }

  /** A KMS-encrypted, access-logged data bucket; with an expiration, its objects expire after it. */
  private addDataBucket(kind: KeyedBucketKind, accessLogs: Bucket, expiration?: Duration): Bucket {
    return new Bucket(this, `${pascal(kind)}Bucket`, {
      bucketName: this.naming.bucket(kind),
      encryption: BucketEncryption.KMS,
      encryptionKey: this.bucketKeys[kind],
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: `${kind}/`,
      removalPolicy: this.removalPolicy,
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(7) },
        ...(expiration ? [{ expiration, noncurrentVersionExpiration: Duration.days(1) }] : []),
      ],
    });
  }

  /** The metadata tables; the execution history has its dataset index. */
  private addTables(): Record<TableKind, Table> {
    const history = this.addTable(
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
    return {
      'object-metadata': this.addTable('object-metadata', 'ObjectMetadataTable', METADATA_KEYS.objectMetadata.partitionKey),
      datasets: this.addTable('datasets', 'DatasetsTable', METADATA_KEYS.datasets.partitionKey),
      pipelines: this.addTable('pipelines', 'PipelinesTable', METADATA_KEYS.pipelines.partitionKey),
      'execution-history': history,
    };
  }

  /** An on-demand metadata table with point-in-time recovery. */
  private addTable(kind: TableKind, tableId: string, partitionKey: string, ttlAttribute?: string): Table {
    const table = new Table(this, tableId, {
      tableName: this.naming.table(kind),
      partitionKey: { name: partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ttlAttribute,
      removalPolicy: this.removalPolicy,
    });
    acknowledgeCheckov(
      table,
      'CKV_AWS_119',
      'Encrypted at rest with the AWS-managed DynamoDB key (aws/dynamodb): it holds pipeline metadata (object keys, statuses, counts), no records of the data, and a customer-managed key would add KMS requests to every pipeline step.',
    );
    return table;
  }

  /** The topic every alarm notifies, with the e-mail subscription when one is given. */
  private addAlarmTopic(notificationEmail: string | undefined): Topic {
    const { naming } = this;
    const topic = new Topic(this, 'AlarmTopic', {
      topicName: naming.alarmTopic(),
      displayName: `sdlf ${naming.context.prefix}-${naming.context.env} alarms`,
      masterKey: this.alarmKey,
      enforceSSL: true,
    });
    if (notificationEmail) topic.addSubscription(new EmailSubscription(notificationEmail));
    return topic;
  }

  /** The role Lake Formation assumes to read and write the registered locations. */
  private addLakeFormationRole(): Role {
    return new InlinePolicyRole(this, 'LakeFormationRole', {
      roleName: this.naming.environmentRole('lakeformation'),
      assumedBy: new ServicePrincipal('lakeformation.amazonaws.com'),
      description: 'Lake Formation data access role for the registered sdlf data locations',
    });
  }

  /** Registers the data buckets with Lake Formation, accessed through its role. */
  private addLakeLocations(): void {
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
  }

  /** Lets CloudWatch Logs encrypt the Glue jobs' logs with the artifacts key. */
  private grantLogsGlueKey(): void {
    const stack = Stack.of(this);
    this.bucketKeys.artifacts.addToResourcePolicy(
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
  }

  /** The Glue security configuration: analytics data under its key, logs and bookmarks under the artifacts key. */
  private addGlueSecurityConfiguration(): CfnSecurityConfiguration {
    const glueKey = this.bucketKeys.artifacts;
    return new CfnSecurityConfiguration(this, 'GlueSecurityConfiguration', {
      name: this.naming.glueSecurityConfiguration(),
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: this.bucketKeys.analytics.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: glueKey.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: glueKey.keyArn },
      },
    });
  }

  /**
   * The SSM parameters through which the other stacks find the keys' ARNs (they know every other name): one for
   * the shared key, or one per keyed bucket.
   */
  private addParameters(kmsStrategy: KmsStrategy): Record<string, StringParameter> {
    const parameters: Record<string, StringParameter> = {};
    const parameter = (key: string, value: string, description: string) => {
      parameters[key] = new StringParameter(this, `Parameter${pascal(key.replaceAll('/', '-'))}`, {
        parameterName: this.naming.foundationsParameter(key),
        stringValue: value,
        description,
      });
    };
    if (kmsStrategy === 'shared') {
      parameter(FOUNDATIONS_PARAMETERS.sharedKey, this.bucketKeys.raw.keyArn, 'ARN of the key of every data bucket');
      return parameters;
    }
    for (const kind of KEYED_BUCKET_KINDS) {
      parameter(FOUNDATIONS_PARAMETERS.bucketKey(kind), this.bucketKeys[kind].keyArn, `ARN of the key of the ${kind} bucket`);
    }
    return parameters;
  }
}

/** `access-logs` → `AccessLogs`. */
export function pascal(value: string): string {
  return value
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
