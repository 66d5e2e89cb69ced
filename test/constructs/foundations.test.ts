import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BUCKET_KINDS, Naming } from '../../src/config/naming.js';
import { FOUNDATIONS_PARAMETERS, Foundations } from '../../src/constructs/foundations.js';
import { physicalNames, testStack } from '../app/helpers.js';

const naming = (env = 'dev', prefix = 'ddk') => new Naming({ prefix, env, account: '222222222222', region: 'us-east-1' });

function foundations(props: Partial<ConstructorParameters<typeof Foundations>[2]> = {}) {
  const stack = testStack();
  const construct = new Foundations(stack, 'Foundations', { naming: naming(), ...props });
  return { construct, template: Template.fromStack(stack) };
}

describe('Foundations', () => {
  describe('with defaults', () => {
    const { template } = foundations();

    it('creates the six buckets, each SSL-only, versioned, private, logged and retained', () => {
      template.resourceCountIs('AWS::S3::Bucket', 6);
      for (const kind of BUCKET_KINDS) {
        template.hasResource('AWS::S3::Bucket', {
          DeletionPolicy: 'Retain',
          Properties: Match.objectLike({
            BucketName: naming().bucket(kind),
            VersioningConfiguration: { Status: 'Enabled' },
            PublicAccessBlockConfiguration: {
              BlockPublicAcls: true,
              BlockPublicPolicy: true,
              IgnorePublicAcls: true,
              RestrictPublicBuckets: true,
            },
            ...(kind === 'access-logs'
              ? {}
              : { LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: `${kind}/` } }),
          }),
        });
      }
      const policies = template.findResources('AWS::S3::BucketPolicy');
      expect(Object.keys(policies)).toHaveLength(6);
      for (const policy of Object.values(policies)) {
        expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
      }
    });

    it('uses one customer-managed key, rotated and retained, for the data and the alarm topic', () => {
      template.resourceCountIs('AWS::KMS::Key', 1);
      template.allResources('AWS::KMS::Key', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({ EnableKeyRotation: true }),
      });
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/ddk-dev-data' });
      template.resourceCountIs('AWS::KMS::Alias', 1);
      const [key] = Object.keys(template.findResources('AWS::KMS::Key'));
      template.hasResourceProperties('AWS::SNS::Topic', {
        TopicName: 'ddk-dev-alarms',
        KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      });
      // CloudWatch of this account only may use it, to publish alarms to the topic
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: { StringEquals: { 'aws:SourceAccount': '222222222222' } },
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Resource: '*',
            },
          ]),
        },
      });
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: naming().bucket('raw'),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
              BucketKeyEnabled: true,
            },
          ],
        },
      });
    });

    it('turns on native EventBridge notifications on the raw bucket only, without a custom resource', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: naming().bucket('raw'),
        NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      });
      const withEvents = Object.values(template.findResources('AWS::S3::Bucket')).filter((b) =>
        JSON.stringify(b).includes('EventBridgeConfiguration'),
      );
      expect(withEvents).toHaveLength(1);
      const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
      expect(types.filter((t) => t.startsWith('Custom::') || t === 'AWS::Lambda::Function')).toEqual([]);
    });

    it('creates the four metadata tables with point-in-time recovery, TTL and the dataset index', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 4);
      template.allResources('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          BillingMode: 'PAY_PER_REQUEST',
        }),
      });
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'ddk-dev-execution-history',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'dataset-started-index',
            KeySchema: [
              { AttributeName: 'datasetKey', KeyType: 'HASH' },
              { AttributeName: 'startedAt', KeyType: 'RANGE' },
            ],
          }),
        ],
      });
    });

    it('registers raw, stage and analytics with Lake Formation through its own role, and writes no data lake settings', () => {
      template.resourceCountIs('AWS::LakeFormation::Resource', 3);
      template.allResourcesProperties('AWS::LakeFormation::Resource', { UseServiceLinkedRole: false, RoleArn: Match.anyValue() });
      template.resourceCountIs('AWS::LakeFormation::DataLakeSettings', 0);
      template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'ddk-dev-lakeformation' });
    });

    it('creates an encrypted alarm topic without a subscription', () => {
      template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'ddk-dev-alarms', KmsMasterKeyId: Match.anyValue() });
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('writes the ARN of the one shared key under /{prefix}/{env}/foundations/keys/data, and no name the other stacks know', () => {
      const names = Object.values(template.findResources('AWS::SSM::Parameter')).map((p) => p.Properties.Name);
      expect(names).toEqual([`/ddk/dev/foundations/${FOUNDATIONS_PARAMETERS.sharedKey}`]);
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/ddk/dev/foundations/keys/data',
        Type: 'String',
        Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FoundationsDataKey'), 'Arn'] },
      });
    });

    it('expires Athena results after 30 days and keeps every other bucket forever', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: naming().bucket('athena'),
        LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 30 })]) },
      });
      const expiring = Object.values(template.findResources('AWS::S3::Bucket')).filter((b) =>
        JSON.stringify(b).includes('ExpirationInDays'),
      );
      expect(expiring).toHaveLength(1);
    });

    it('configures Glue encryption of S3 data, logs and bookmarks', () => {
      template.hasResourceProperties('AWS::Glue::SecurityConfiguration', {
        Name: 'ddk-dev-glue',
        EncryptionConfiguration: {
          S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: Match.anyValue() }],
          CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: Match.anyValue() },
          JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: Match.anyValue() },
        },
      });
    });
  });

  describe('with custom props', () => {
    it('uses one key per data bucket with kmsStrategy per-bucket', () => {
      const { template } = foundations({ kmsStrategy: 'per-bucket' });
      template.resourceCountIs('AWS::KMS::Key', 6);
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/ddk-dev-alarms' });
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/ddk-dev-raw' });
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/ddk-dev-artifacts' });
      // And one parameter per keyed bucket, each holding its own key's ARN
      const names = Object.values(template.findResources('AWS::SSM::Parameter')).map((p) => p.Properties.Name);
      expect(names.sort()).toEqual(
        (['analytics', 'artifacts', 'athena', 'raw', 'stage'] as const).map(
          (kind) => `/ddk/dev/foundations/${FOUNDATIONS_PARAMETERS.bucketKey(kind)}`,
        ),
      );
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/ddk/dev/foundations/keys/raw',
        Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FoundationsRawKey'), 'Arn'] },
      });
    });

    it('deletes buckets, tables and keys with the stack when the removal policy says so', () => {
      const { template } = foundations({ removalPolicy: RemovalPolicy.DESTROY });
      for (const type of ['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::KMS::Key']) {
        template.allResources(type, { DeletionPolicy: 'Delete' });
      }
    });

    it('subscribes the notification e-mail and keeps Athena results as long as asked', () => {
      const { template } = foundations({ notificationEmail: 'data@example.com', athenaResultsExpiration: Duration.days(7) });
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'data@example.com' });
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: naming().bucket('athena'),
        LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7 })]) },
      });
    });
  });

  describe('two instances', () => {
    it('share no physical name between dev and prod of one account and region', () => {
      const stack = testStack();
      new Foundations(stack, 'Dev', { naming: naming('dev') });
      new Foundations(stack, 'Prod', { naming: naming('prod') });
      const template = Template.fromStack(stack);
      const names = physicalNames(template.toJSON().Resources);
      expect(names.length).toBeGreaterThan(25);
      expect(new Set(names).size).toBe(names.length);
    });
  });
});
