import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import {
  CfnDatabase,
  type CodeConfig,
  Code as GlueCode,
  GlueVersion,
  PySparkEtlJob,
  SecurityConfiguration,
  WorkerType,
} from 'aws-cdk-lib/aws-glue';
import { ArnPrincipal, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPrincipalPermissions } from 'aws-cdk-lib/aws-lakeformation';
import type { Code } from 'aws-cdk-lib/aws-lambda';
import { type ILogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { type DatasetConfig, datasetConfigOf } from '../config/model.js';
import { Naming } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import { type DatasetParameter, HANDLER_ENV } from '../runtime/contract.js';
import { FoundationsReferences } from './foundations-references.js';
import { InlinePolicyRole } from './inline-policy-role.js';
import { MonitoredQueue } from './monitored-queue.js';
import { acknowledge, acknowledgeAnyResource, acknowledgeWildcards, objectsUnder, streamsOf } from './nag.js';
import { grantReadUnder } from './object-grants.js';
import { commonEnvironment } from './runtime-environment.js';
import { SdlfFunction } from './sdlf-function.js';

/** Version of the {@link DatasetParameter} layout the runtime reads. */
export const DATASET_PARAMETER_VERSION = 1;

/** The stage B part of a dataset: its Glue job and the queue of staged objects waiting for it. */
export interface HeavyTransformProps {
  /** Absolute path of `transforms/heavy/<name>/`, holding `transform.sql` (and `main.py` when the user owns it). */
  readonly dir: string;
  /**
   * Absolute path of the job's script: the folder's own `main.py`, or the Glue runner that ships with sdlf, which
   * needs the folder's `transform.sql`.
   */
  readonly script: string;
  /** Glue workers per run. @default 2 */
  readonly numberOfWorkers?: number;
  /** Longest a job run may take. @default Duration.hours(2) */
  readonly timeout?: Duration;
}

/** Properties of {@link DatasetResources}. */
export interface DatasetResourcesProps {
  /** Names of the environment. */
  readonly naming: Naming;
  /** The dataset's configuration. */
  readonly config: DatasetConfig;
  /** Code of the light-transform function (the handler bundled with the dataset's transform). */
  readonly lightTransformCode: Code;
  /** Stage B resources; omit for a pipeline without stage B. @default no Glue job, stage B queue or grants */
  readonly heavyTransform?: HeavyTransformProps;
  /** Retention of the light-transform function's own log group; unused with {@link logGroup}. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /**
   * The log group the light-transform function writes to, e.g. its team pipeline's (by name): its streams are
   * named after the function. @default a log group of its own, `/aws/lambda/{function}`
   */
  readonly logGroup?: ILogGroup;
  /** Memory of the light-transform function in MB. @default 1024 */
  readonly lightTransformMemorySize?: number;
  /**
   * Whether to grant the team pipeline's roles, by the names `LightTransformStage` and
   * `HeavyTransformStage` give them, this dataset's own resources: the stage A state machine invokes its
   * light-transform function; the step function sends to its stage B queue and dead-letter queue; the stage B
   * trigger receives from, sends to and deletes in its stage B queue; the stage B state machine runs its Glue job.
   * Off for a pipeline type built without those stages. @default true
   */
  readonly grantPipelineRoles?: boolean;
}

/**
 * Defines what belongs to one dataset: its light-transform function (reads `raw/{team}/{dataset}/`, writes
 * `stage/{team}/{dataset}/`), its Glue database, and with a heavy transform its Glue 5.0 job (the project's
 * `main.py` and `transform.sql` as assets), its stage B queue with dead-letter queue and alarm, and the Lake
 * Formation grants of the job's role on the database; finally the dataset's configuration as a native SSM
 * parameter ({@link DatasetParameter}) at `/{prefix}/{env}/datasets/{team}/{dataset}`.
 */
export class DatasetResources extends Construct {
  /** The light-transform function. */
  readonly lightTransformFunction: SdlfFunction;
  /** The Glue database. */
  readonly database: CfnDatabase;
  /** The Glue job, with a heavy transform. */
  readonly glueJob?: PySparkEtlJob;
  /** The Glue job's role, with a heavy transform. */
  readonly glueRole?: Role;
  /** The stage B queue, with a heavy transform. */
  readonly stageBQueue?: MonitoredQueue;
  /** The dataset's configuration parameter. */
  readonly parameter: StringParameter;
  /** What the parameter holds. */
  readonly parameterValue: DatasetParameter;

  private readonly naming: Naming;
  private readonly config: DatasetConfig;
  private readonly foundations: FoundationsReferences;
  /** `{team}/{dataset}/`, the prefix of the dataset's objects in every data bucket. */
  private readonly prefix: string;
  /** Name of the dataset's Glue database. */
  private readonly databaseName: string;

  constructor(scope: Construct, id: string, props: DatasetResourcesProps) {
    super(scope, id);
    const { naming, config } = props;
    this.naming = naming;
    this.config = config;
    this.foundations = FoundationsReferences.of(this, naming);
    this.prefix = Naming.datasetPrefix(config.team, config.dataset);
    this.databaseName = naming.glueDatabase(config.team, config.dataset);

    this.lightTransformFunction = this.addLightTransformFunction(props);
    this.grantLightTransformData(this.lightTransformFunction.role);
    this.database = this.addDatabase();

    const heavy = props.heavyTransform;
    if (heavy) {
      this.assertHeavyTransformFiles(heavy);
      this.stageBQueue = this.addStageBQueue();
      this.glueRole = this.addGlueRole();
      this.glueJob = this.addGlueJob(heavy, this.glueRole);
      this.grantLakeFormation(this.glueRole);
      this.acknowledgeGlueFindings(this.glueRole, this.glueJob);
    }

    if (props.grantPipelineRoles ?? true) this.grantPipelineRoles(naming, config);

    this.parameterValue = this.datasetParameterValue();
    this.parameter = this.addParameter(this.parameterValue);
    this.acknowledgeLightTransformFindings(this.lightTransformFunction.role, props.logGroup);
  }

  /** The light-transform function, with the environment the handler reads. */
  private addLightTransformFunction(props: DatasetResourcesProps): SdlfFunction {
    const { naming, config, foundations } = this;
    const { team, dataset } = config;
    return new SdlfFunction(this, 'LightTransform', {
      functionName: naming.lightTransformFunction(team, dataset),
      roleName: naming.datasetRole(team, dataset, 'light-transform'),
      code: props.lightTransformCode,
      description: `Light transform ${config.stageATransform} of ${team}/${dataset}`,
      failures: {
        keptBy:
          "Invoked synchronously by the stage A state machine, whose Catch records the failure and dead-letters the object's message.",
      },
      memorySize: props.lightTransformMemorySize ?? 1024,
      timeout: Duration.minutes(15),
      logRetention: props.logRetention ?? RetentionDays.ONE_YEAR,
      ...(props.logGroup ? { logGroup: props.logGroup } : {}),
      environment: {
        ...commonEnvironment(foundations, naming),
        [HANDLER_ENV['light-transform'].team]: team,
        [HANDLER_ENV['light-transform'].dataset]: dataset,
        [HANDLER_ENV['light-transform'].stageBucket]: foundations.bucket('stage').bucketName,
        // The bundle's source maps: an error of the user's transform names its own file:line.
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  }

  /** Lets the light transform read the dataset's raw objects and write (and undo) its staged ones. */
  private grantLightTransformData(role: Role): void {
    const { foundations, prefix } = this;
    grantReadUnder(foundations.bucket('raw'), role, prefix);
    foundations.bucketKey('raw').grantDecrypt(role);
    foundations.bucket('stage').grantPut(role, `${prefix}*`);
    // A failed multi-table transform deletes the tables it had already staged.
    foundations.bucket('stage').grantDelete(role, `${prefix}*`);
    foundations.bucketKey('stage').grantEncryptDecrypt(role);
  }

  /** Records why the light transform's wildcards, all under the dataset's prefix, pass cdk-nag. */
  private acknowledgeLightTransformFindings(role: Role, logGroup: ILogGroup | undefined): void {
    // A log group known by name has the ARN `…:log-group:{name}:*`, its streams: the finding names it exactly.
    const logGroupName = logGroup && !Token.isUnresolved(logGroup.logGroupName) ? logGroup.logGroupName : undefined;
    acknowledgeWildcards(
      role,
      `The light transform reads raw/${this.prefix} and writes stage/${this.prefix} only, and its logs to its log group.`,
      [
        /^Action::(s3|kms):[A-Za-z]*\*$/,
        objectsUnder([this.naming.bucket('raw'), this.naming.bucket('stage')], this.prefix),
        ...(logGroupName ? [streamsOf(logGroupName)] : []),
      ],
    );
  }

  /** The Glue database, located under the dataset's prefix of the analytics bucket. */
  private addDatabase(): CfnDatabase {
    const { team, dataset } = this.config;
    return new CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: this.databaseName,
        description: `sdlf dataset ${team}/${dataset}`,
        locationUri: `s3://${this.foundations.bucket('analytics').bucketName}/${this.prefix}`,
      },
    });
  }

  /** Fails the synth when the Glue job's script, or the SQL the shipped runner needs, does not exist. */
  private assertHeavyTransformFiles(heavy: HeavyTransformProps): void {
    const { team, dataset, stageBTransform } = this.config;
    if (!existsSync(heavy.script)) {
      throw new SdlfError(`Dataset "${team}/${dataset}" needs the Glue script ${heavy.script}, which does not exist.`, {
        code: 'MISSING_TRANSFORM',
        suggestions: [`Create transforms/heavy/${stageBTransform}/main.py (the PySpark script of stage B).`],
      });
    }
    if (heavy.script !== join(heavy.dir, 'main.py') && !existsSync(join(heavy.dir, 'transform.sql'))) {
      throw new SdlfError(
        `Dataset "${team}/${dataset}" has no transforms/heavy/${stageBTransform}/transform.sql for its Glue job to run.`,
        {
          code: 'MISSING_TRANSFORM',
          suggestions: [
            `Create transforms/heavy/${stageBTransform}/transform.sql (CREATE TABLE <name> AS SELECT …),`,
            `or own the job's PySpark: "sdlf add-dataset --team ${team} --dataset ${dataset} --glue-script" copies main.py there.`,
          ],
        },
      );
    }
  }

  /** The stage B queue, with its dead-letter queue and alarm. */
  private addStageBQueue(): MonitoredQueue {
    const { naming, config } = this;
    return new MonitoredQueue(this, 'StageBQueue', {
      queueName: naming.stageBQueue(config.team, config.dataset),
      deadLetterQueueName: naming.stageBDeadLetterQueue(config.team, config.dataset),
      alarmTopic: this.foundations.alarmTopic,
      visibilityTimeout: Duration.minutes(15),
    });
  }

  /** The Glue job's role, granted the dataset's data, its catalog entries and the job's logs. */
  private addGlueRole(): Role {
    const { team, dataset } = this.config;
    const role = new InlinePolicyRole(this, 'GlueRole', {
      roleName: this.naming.datasetRole(team, dataset, 'glue'),
      assumedBy: new ServicePrincipal('glue.amazonaws.com'),
      description: `Glue job role of ${team}/${dataset}`,
    });
    this.grantGlueData(role);
    this.grantGlueCatalog(role);
    this.grantGlueLogs(role);
    return role;
  }

  /** Lets the job read the staged objects and its manifest, write its result and the analytics tables. */
  private grantGlueData(role: Role): void {
    const { foundations, prefix } = this;
    grantReadUnder(foundations.bucket('stage'), role, prefix, { forSpark: true });
    grantReadUnder(foundations.bucket('artifacts'), role, `manifests/${prefix}`, { forSpark: true });
    // The job writes its result (`<manifest>.result.json`) beside the manifest for the post-update step.
    foundations.bucket('artifacts').grantPut(role, `manifests/${prefix}*`);
    // Spark writes the tables: its file system probes keys that do not exist yet and needs S3's 404 for them,
    // which only an unconditional s3:ListBucket gives (with a 403 the job fails). The listing shows the analytics
    // bucket's key names; reads and writes stay under the dataset's prefix.
    foundations.bucket('analytics').grantReadWrite(role, `${prefix}*`);
    for (const kind of ['stage', 'artifacts', 'analytics'] as const) foundations.bucketKey(kind).grantEncryptDecrypt(role);
  }

  /** Lake Formation grants the data; IAM must still allow the catalog calls, on this dataset's database only. */
  private grantGlueCatalog(role: Role): void {
    const stack = Stack.of(this);
    const { databaseName } = this;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetTables',
          'glue:CreateTable',
          'glue:UpdateTable',
          'glue:DeleteTable',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
          'glue:CreatePartition',
          'glue:BatchCreatePartition',
          'glue:UpdatePartition',
        ],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/*` }),
        ],
      }),
    );
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lakeformation:GetDataAccess'], resources: ['*'] }));
  }

  /** Job logs go to /aws-glue/*, encrypted with the security configuration's key. */
  private grantGlueLogs(role: Role): void {
    const glueLogs = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws-glue/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [glueLogs],
      }),
    );
  }

  /** The Glue 5.0 job, its script and SQL as assets its role alone may read. */
  private addGlueJob(heavy: HeavyTransformProps, role: Role): PySparkEtlJob {
    const { naming, config, foundations } = this;
    const sql = join(heavy.dir, 'transform.sql');
    const transformSql = existsSync(sql) ? new Asset(this, 'TransformSql', { path: sql }) : undefined;
    // GlueCode.fromAsset would let the role read the whole CDK assets bucket: it reads its own objects only.
    const scriptAsset = new Asset(this, 'Script', { path: heavy.script });
    const job = new PySparkEtlJob(this, 'GlueJob', {
      jobName: naming.glueJob(config.team, config.dataset),
      description: `Heavy transform ${config.stageBTransform} of ${config.team}/${config.dataset}`,
      role,
      glueVersion: GlueVersion.V5_0,
      workerConfiguration: { workerType: WorkerType.G_1X, numberOfWorkers: heavy.numberOfWorkers ?? 2 },
      timeout: heavy.timeout ?? Duration.hours(2),
      maxConcurrentRuns: 1,
      maxRetries: 0,
      script: new AssetObjectCode(scriptAsset),
      securityConfiguration: SecurityConfiguration.fromSecurityConfigurationName(
        this,
        'SecurityConfiguration',
        foundations.glueSecurityConfiguration,
      ),
      defaultArguments: {
        // Bookmarks would skip staged files on a rerun: the manifest says exactly what to process.
        '--job-bookmark-option': 'job-bookmark-disable',
        '--stage-bucket': foundations.bucket('stage').bucketName,
        '--analytics-bucket': foundations.bucket('analytics').bucketName,
        // The SQL by its S3 URI: --extra-files would copy it under its asset name (<hash>.sql), not transform.sql.
        ...(transformSql ? { '--transform-sql': transformSql.s3ObjectUrl } : {}),
      },
    });
    // The role reads its own assets only, not the other objects of the CDK assets bucket.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [scriptAsset, ...(transformSql ? [transformSql] : [])].map((asset) =>
          asset.bucket.arnForObjects(asset.s3ObjectKey),
        ),
      }),
    );
    return job;
  }

  /** Grants the Glue job's role, in Lake Formation, the database, its tables and the analytics location. */
  private grantLakeFormation(role: Role): void {
    const { databaseName } = this;
    const principal = { dataLakePrincipalIdentifier: role.roleArn };
    const grants = [
      new CfnPrincipalPermissions(this, 'DatabaseGrant', {
        principal,
        resource: { database: { catalogId: Aws.ACCOUNT_ID, name: databaseName } },
        permissions: ['CREATE_TABLE', 'ALTER', 'DROP', 'DESCRIBE'],
        permissionsWithGrantOption: [],
      }),
      new CfnPrincipalPermissions(this, 'TablesGrant', {
        principal,
        resource: { table: { catalogId: Aws.ACCOUNT_ID, databaseName, tableWildcard: {} } },
        permissions: ['SELECT', 'INSERT', 'DELETE', 'DESCRIBE', 'ALTER', 'DROP'],
        permissionsWithGrantOption: [],
      }),
      new CfnPrincipalPermissions(this, 'LocationGrant', {
        principal,
        resource: {
          dataLocation: { catalogId: Aws.ACCOUNT_ID, resourceArn: this.foundations.bucket('analytics').bucketArn },
        },
        permissions: ['DATA_LOCATION_ACCESS'],
        permissionsWithGrantOption: [],
      }),
    ];
    for (const grant of grants) grant.addResourceDependency(this.database);
  }

  /** Records why the Glue role's wildcards and the job's encryption settings pass cdk-nag. */
  private acknowledgeGlueFindings(role: Role, job: PySparkEtlJob): void {
    acknowledgeWildcards(role, `The Glue job reads and writes only ${this.prefix} of the data buckets and its own assets.`, [
      /^Action::(s3|kms):[A-Za-z]*\*$/,
      objectsUnder(
        (['raw', 'stage', 'analytics'] as const).map((kind) => this.naming.bucket(kind)),
        this.prefix,
      ),
      objectsUnder([this.naming.bucket('artifacts')], `manifests/${this.prefix}`),
      new RegExp(`^Resource::arn:<AWS::Partition>:glue:[^:]*:[^:]*:table/${this.databaseName}/\\*$`),
      /^Resource::arn:<AWS::Partition>:logs:[^:]*:[^:]*:log-group:\/aws-glue\/\*$/,
    ]);
    acknowledgeAnyResource(
      role,
      'lakeformation:GetDataAccess has no resource-level permissions; the Lake Formation grants decide what it returns.',
      ['lakeformation:GetDataAccess'],
    );
    acknowledge(job, 'AwsSolutions-GL1', 'Logs are encrypted by the security configuration the job references.');
    acknowledge(job, 'AwsSolutions-GL3', 'Bookmarks are off and encrypted by the security configuration.');
  }

  /** What the dataset's parameter holds: its configuration and the names of its resources. */
  private datasetParameterValue(): DatasetParameter {
    const { naming, config } = this;
    const { team, dataset } = config;
    return {
      ...datasetConfigOf(config),
      lightTransformFunction: naming.lightTransformFunction(team, dataset),
      stageBQueueUrl: this.stageBQueue?.queue.queueUrl ?? '',
      stageBDeadLetterQueueUrl: this.stageBQueue?.deadLetterQueue.queueUrl ?? '',
      glueJob: this.glueJob ? naming.glueJob(team, dataset) : '',
      glueDatabase: this.databaseName,
      version: DATASET_PARAMETER_VERSION,
    };
  }

  /** The native SSM parameter at `/{prefix}/{env}/datasets/{team}/{dataset}`. */
  private addParameter(value: DatasetParameter): StringParameter {
    const { team, dataset } = this.config;
    return new StringParameter(this, 'Parameter', {
      parameterName: this.naming.datasetParameter(team, dataset),
      description: `sdlf configuration of dataset ${team}/${dataset}`,
      stringValue: Stack.of(this).toJsonString(value),
    });
  }

  /**
   * Grants the team pipeline's roles this dataset's resources, from the dataset stack and by exact ARN: the
   * stage B queues in the stack's queue policy, the function and the Glue job in policies of the roles. Granting
   * them in the pipeline stack would need name patterns (`ddk-dev-sales-*-stage-b.fifo`) that also match another
   * team's names (`ddk-dev-sales-eu-orders-stage-b.fifo`); here a new dataset still changes nothing in the
   * pipeline stack, and removing the dataset stack takes its grants with it.
   */
  private grantPipelineRoles(naming: Naming, config: DatasetConfig): void {
    const { team, dataset, pipeline } = config;
    const role = (id: string, purpose: Parameters<Naming['pipelineRole']>[2]) =>
      Role.fromRoleName(this, id, naming.pipelineRole(team, pipeline, purpose));
    const lightTransform = this.lightTransformFunction.function.functionArn;
    role('StageARole', 'stage-a').addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [lightTransform] }),
    );
    if (!this.stageBQueue || !this.glueJob) return;
    // The stage B queues grant the pipeline's roles in their (the stack's one) queue policy: a statement per dataset
    // in the roles' own policies would bring each role nearer IAM's 10,240 characters of inline policies.
    const { queue, deadLetterQueue } = this.stageBQueue;
    const principal = (purpose: Parameters<Naming['pipelineRole']>[2]) =>
      new ArnPrincipal(
        Stack.of(this).formatArn({
          region: '',
          service: 'iam',
          resource: 'role',
          resourceName: naming.pipelineRole(team, pipeline, purpose),
        }),
      );
    // Post-update queues the staged keys for stage B; the error step dead-letters a failed batch's keys.
    queue.addToResourcePolicy(
      new PolicyStatement({
        principals: [principal('step')],
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resources: [queue.queueArn, deadLetterQueue.queueArn],
      }),
    );
    // The trigger batches the queue, puts back what waits for min_items_process, dead-letters invalid messages.
    queue.addToResourcePolicy(
      new PolicyStatement({
        principals: [principal('stage-b-trigger')],
        actions: [
          'sqs:ReceiveMessage',
          'sqs:SendMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
        ],
        resources: [queue.queueArn],
      }),
    );
    deadLetterQueue.addToResourcePolicy(
      new PolicyStatement({
        principals: [principal('stage-b-trigger')],
        actions: ['sqs:SendMessage'],
        resources: [deadLetterQueue.queueArn],
      }),
    );
    const job = Stack.of(this).formatArn({ service: 'glue', resource: 'job', resourceName: naming.glueJob(team, dataset) });
    role('StageBRole', 'stage-b').addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
        resources: [job],
      }),
    );
  }
}

/**
 * A Glue job's script from an asset, with no grant of its own: `GlueCode.fromAsset` and `fromBucket` grant the
 * role `s3:List*` and `s3:GetObject*` on the whole CDK assets bucket; `DatasetResources` grants `s3:GetObject` on
 * the job's own asset objects instead.
 */
class AssetObjectCode extends GlueCode {
  constructor(private readonly asset: Asset) {
    super();
  }

  bind(): CodeConfig {
    return { s3Location: { bucketName: this.asset.s3BucketName, objectKey: this.asset.s3ObjectKey } };
  }
}
