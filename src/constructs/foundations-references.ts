import { ArnFormat, Stack } from 'aws-cdk-lib';
import { type ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct, type IConstruct } from 'constructs';
import type { BucketKind, Naming, TableKind } from '../config/naming.js';
import { bucketKeyParameter, type KeyedBucketKind, KMS_STRATEGY_CONTEXT, type KmsStrategy, pascal } from './foundations.js';

/**
 * The foundations of an environment as seen from another stack, never through CloudFormation exports, so the
 * foundations can change without "export in use" failures: buckets, tables, the alarm topic and the Glue security
 * configuration by the names the project's naming gives them; the keys' ARNs, which KMS makes up, from the SSM
 * parameters the foundations stack writes (`AWS::SSM::Parameter::Value<String>` template parameters, resolved at
 * deploy time). One instance per stack: use {@link FoundationsReferences.of}.
 */
export class FoundationsReferences extends Construct {
  /** Returns the references of the stack that holds `scope`, creating them on first use. */
  static of(scope: IConstruct, naming: Naming): FoundationsReferences {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(REFERENCES_ID);
    if (existing instanceof FoundationsReferences) return existing;
    return new FoundationsReferences(stack, REFERENCES_ID, naming);
  }

  private readonly cache = new Map<string, unknown>();

  private constructor(
    scope: Construct,
    id: string,
    /** Names of the environment. */
    readonly naming: Naming,
  ) {
    super(scope, id);
  }

  /** Reads a foundations parameter (a deploy-time token). */
  value(key: string): string {
    return StringParameter.valueForStringParameter(this, this.naming.foundationsParameter(key));
  }

  /** A bucket of the environment, by its name. */
  bucket(kind: BucketKind): IBucket {
    return this.memo(`bucket:${kind}`, () => Bucket.fromBucketName(this, `${pascal(kind)}Bucket`, this.naming.bucket(kind)));
  }

  /**
   * The key that encrypts a bucket, from the parameter of the stack's KMS strategy (the `sdlf:kmsStrategy`
   * context). @default the `shared` strategy's one key when the context is not set
   */
  bucketKey(kind: KeyedBucketKind): IKey {
    const parameter = bucketKeyParameter(this.kmsStrategy, kind);
    return this.memo(`key:${parameter}`, () =>
      Key.fromKeyArn(this, `${pascal(parameter.replace(/^keys\//, ''))}Key`, this.value(parameter)),
    );
  }

  /** The environment's KMS strategy, from the `sdlf:kmsStrategy` context. */
  private get kmsStrategy(): KmsStrategy {
    const strategy: unknown = this.node.tryGetContext(KMS_STRATEGY_CONTEXT) ?? 'shared';
    if (strategy !== 'shared' && strategy !== 'per-bucket') {
      throw new Error(`Context ${KMS_STRATEGY_CONTEXT} is "${String(strategy)}"; expected "shared" or "per-bucket".`);
    }
    return strategy;
  }

  /** A metadata table, by its name. */
  table(kind: TableKind): ITable {
    return this.memo(`table:${kind}`, () => Table.fromTableName(this, `${pascal(kind)}Table`, this.naming.table(kind)));
  }

  /** The alarm topic, by its name. */
  get alarmTopic(): ITopic {
    return this.memo('topic', () =>
      Topic.fromTopicArn(
        this,
        'AlarmTopic',
        Stack.of(this).formatArn({ service: 'sns', resource: this.naming.alarmTopic(), arnFormat: ArnFormat.NO_RESOURCE_NAME }),
      ),
    );
  }

  /** Name of the Glue security configuration. */
  get glueSecurityConfiguration(): string {
    return this.naming.glueSecurityConfiguration();
  }

  /** ARN of a resource of this stack's account and region, e.g. a function known by name. */
  arn(service: string, resource: string, resourceName: string, colon = false): string {
    return Stack.of(this).formatArn({
      service,
      resource,
      resourceName,
      arnFormat: colon ? ArnFormat.COLON_RESOURCE_NAME : ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  private memo<T>(key: string, create: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, create());
    return this.cache.get(key) as T;
  }
}

const REFERENCES_ID = 'SdlfFoundations';
