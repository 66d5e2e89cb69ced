import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeCommitClient } from '@aws-sdk/client-codecommit';
import { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';

/** A credential provider as the SDK clients take it. */
type AwsCredentialIdentityProvider = ReturnType<typeof fromIni>;

/** Where and as whom the CLI talks to AWS. */
export interface AwsClientOptions {
  /** Region of every client. */
  readonly region: string;
  /** Named profile from `~/.aws/config`; @default the SDK's default credential chain (environment, SSO, instance role…) */
  readonly profile?: string;
}

/** Constructor signature shared by every AWS SDK v3 client. */
type ClientClass<T> = new (config: {
  region: string;
  credentials?: AwsCredentialIdentityProvider;
  forcePathStyle?: boolean;
}) => T;

/**
 * The one factory of AWS SDK v3 clients for the CLI side. Every client gets the same region and credentials;
 * each is created on first use and reused. The SDK itself honours `AWS_ENDPOINT_URL` (and the per-service
 * `AWS_ENDPOINT_URL_<SERVICE>`), which is how tests point the CLI at `moto_server`.
 */
export class AwsClients {
  /** The region every client uses. */
  readonly region: string;
  /** The named profile, when one was given. */
  readonly profile?: string;
  private readonly credentials?: AwsCredentialIdentityProvider;
  private readonly cache = new Map<unknown, unknown>();

  constructor(options: AwsClientOptions) {
    this.region = options.region;
    this.profile = options.profile;
    this.credentials = options.profile ? fromIni({ profile: options.profile }) : undefined;
  }

  /** STS: who am I. */
  get sts(): STSClient {
    return this.client(STSClient);
  }
  /** CloudFormation: stacks. */
  get cloudFormation(): CloudFormationClient {
    return this.client(CloudFormationClient);
  }
  /** S3: buckets and objects. Path-style addressing when an endpoint override points at a local server. */
  get s3(): S3Client {
    return this.client(S3Client, { forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) });
  }
  /** SQS: queues and dead-letter queues. */
  get sqs(): SQSClient {
    return this.client(SQSClient);
  }
  /** DynamoDB: metadata tables. */
  get dynamoDb(): DynamoDBClient {
    return this.client(DynamoDBClient);
  }
  /** KMS: data keys. */
  get kms(): KMSClient {
    return this.client(KMSClient);
  }
  /** Lake Formation: data lake settings. */
  get lakeFormation(): LakeFormationClient {
    return this.client(LakeFormationClient);
  }
  /** IAM: role look-ups. */
  get iam(): IAMClient {
    return this.client(IAMClient);
  }
  /** SSM Parameter Store. */
  get ssm(): SSMClient {
    return this.client(SSMClient);
  }
  /** Step Functions. */
  get sfn(): SFNClient {
    return this.client(SFNClient);
  }
  /** Lambda: invokes a deployed function (the stage B trigger). */
  get lambda(): LambdaClient {
    return this.client(LambdaClient);
  }
  /** CloudWatch Logs: the log groups of the lake's Lambdas, state machines and Glue jobs. */
  get logs(): CloudWatchLogsClient {
    return this.client(CloudWatchLogsClient);
  }
  /** Glue: the job runs of a dataset's heavy transform. */
  get glue(): GlueClient {
    return this.client(GlueClient);
  }
  /** CodeCommit: the CI/CD repository. */
  get codeCommit(): CodeCommitClient {
    return this.client(CodeCommitClient);
  }
  /** CodeConnections (CodeStar Connections): GitHub/GitLab/Bitbucket sources. */
  get codeConnections(): CodeStarConnectionsClient {
    return this.client(CodeStarConnectionsClient);
  }
  /** Resource Groups Tagging API: finds resources by their `sdlf:*` tags. */
  get tagging(): ResourceGroupsTaggingAPIClient {
    return this.client(ResourceGroupsTaggingAPIClient);
  }

  private client<T>(type: ClientClass<T>, extra: { forcePathStyle?: boolean } = {}): T {
    let client = this.cache.get(type) as T | undefined;
    if (!client) {
      client = new type({ region: this.region, ...(this.credentials ? { credentials: this.credentials } : {}), ...extra });
      this.cache.set(type, client);
    }
    return client;
  }
}

/** Creates the {@link AwsClients} of one account and region. */
export function createAwsClients(options: AwsClientOptions): AwsClients {
  return new AwsClients(options);
}
