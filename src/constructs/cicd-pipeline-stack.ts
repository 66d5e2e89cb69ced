import { Stack, type StackProps, Stage } from 'aws-cdk-lib';
import { BuildEnvironmentVariableType, BuildSpec, LinuxBuildImage } from 'aws-cdk-lib/aws-codebuild';
import { Repository } from 'aws-cdk-lib/aws-codecommit';
import { PipelineType } from 'aws-cdk-lib/aws-codepipeline';
import { CodePipeline, CodePipelineSource, ManualApprovalStep, ShellStep } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import type { CicdEnvironment, DeploymentEnvironment } from '../config/model.js';
import { Naming } from '../config/naming.js';
import { acknowledge, acknowledgeWildcards } from './nag.js';

/** The Node.js runtime of the pipeline's CodeBuild steps (one that aws/codebuild/standard:7.0 offers). */
export const CODEBUILD_NODE_VERSION = '22';

/** Properties of a {@link CicdPipelineStack}. */
export interface CicdPipelineStackProps extends StackProps {
  /** The `cicd` environment of `ddk.json`: account, region, source. */
  readonly cicd: CicdEnvironment;
  /** Deployment environments, in order; each becomes a stage. */
  readonly environments: readonly DeploymentEnvironment[];
  /** Adds the data-lake stacks of one environment to its stage. */
  readonly addEnvironment: (stage: Stage, environment: DeploymentEnvironment) => void;
  /** Commands of the synth step. @default ['npm ci', 'npx sdlf synth'] */
  readonly synthCommands?: readonly string[];
}

/**
 * The CI/CD pipeline of a project (`{prefix}-cicd-pipeline`, in the cicd account), built with CDK Pipelines:
 * source from CodeCommit (the repository of `ddk.json`) or a CodeConnections connection, a synth step that runs
 * `npm ci && npx sdlf synth` (which fails on any cdk-nag error), then one stage per deployment environment, with a
 * manual approval before the environments that set `manual_approvals`.
 */
export class CicdPipelineStack extends Stack {
  /** The pipeline. */
  readonly pipeline: CodePipeline;
  /** The stage of each environment, by environment id. */
  readonly stages: Readonly<Record<string, Stage>>;

  constructor(scope: Construct, id: string, props: CicdPipelineStackProps) {
    super(scope, id, { ...props, env: props.env ?? { account: props.cicd.account, region: props.cicd.region } });
    const { cicd } = props;
    const synthCommands = props.synthCommands ?? ['npm ci', 'npx sdlf synth'];
    const source =
      cicd.source.provider === 'codecommit'
        ? CodePipelineSource.codeCommit(
            Repository.fromRepositoryName(this, 'Repository', cicd.source.repository),
            cicd.source.branch,
          )
        : CodePipelineSource.connection(cicd.source.repository, cicd.source.branch, { connectionArn: cicd.source.connectionArn });

    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: Naming.cicdStack(cicd.resourcePrefix),
      pipelineType: PipelineType.V2,
      crossAccountKeys: true,
      enableKeyRotation: true,
      synth: new ShellStep('Synth', {
        input: source,
        commands: [...synthCommands],
        primaryOutputDirectory: 'cdk.out',
        env: { CDK_DISABLE_CLI_TELEMETRY: 'true' },
      }),
      codeBuildDefaults: {
        buildEnvironment: {
          buildImage: LinuxBuildImage.STANDARD_7_0,
          environmentVariables: { SDLF_YES: { type: BuildEnvironmentVariableType.PLAINTEXT, value: 'true' } },
        },
        // The image's default Node.js moves when one reaches its end of life; the builds run on the one sdlf supports.
        partialBuildSpec: BuildSpec.fromObject({
          phases: { install: { 'runtime-versions': { nodejs: CODEBUILD_NODE_VERSION } } },
        }),
      },
    });
    const stages: Record<string, Stage> = {};
    for (const environment of props.environments) {
      const stage = new Stage(this, pascalId(environment.id), {
        stageName: environment.id,
        env: { account: environment.account, region: environment.region },
      });
      props.addEnvironment(stage, environment);
      this.pipeline.addStage(stage, {
        pre: environment.manualApprovals
          ? [new ManualApprovalStep(`Approve-${environment.id}`, { comment: `Deploy to ${environment.id}?` })]
          : [],
      });
      stages[environment.id] = stage;
    }
    this.stages = stages;
    this.pipeline.buildPipeline();

    // CDK Pipelines generates its roles, buckets and projects; these acknowledgements name each wildcard they
    // generate, so any other (a new grant, a new CDK version) fails the synth and is reviewed.
    acknowledgeWildcards(
      this.pipeline,
      "Grants CDK Pipelines generates: read/write of the pipeline's own artifacts bucket (and its cross-region replication buckets) with its key, its CodeBuild projects' own log groups and report groups, and the CDK bootstrap roles (arn:*:iam::<account>:role/*, limited by the aws-cdk:bootstrap-role tag condition).",
      [
        /^Action::(kms:(GenerateDataKey|ReEncrypt)|s3:(Abort|DeleteObject|GetBucket|GetObject|List))\*$/,
        /^Resource::<Pipeline[A-Za-z0-9]*ArtifactsBucket[A-Za-z0-9]+\.Arn>\/\*$/,
        /^Resource::arn:<AWS::Partition>:s3:::[a-z0-9.-]*cicd-pipeline-support[a-z0-9.-]*\/\*$/,
        /^Resource::arn:\*:iam::\d{12}:role\/\*$/,
        /^Resource::arn:<AWS::Partition>:codebuild:[^:]+:\d{12}:report-group\/(\*|<Pipeline[A-Za-z0-9]+>-\*)$/,
        /^Resource::arn:<AWS::Partition>:logs:[^:]+:\d{12}:log-group:\/aws\/codebuild\/(\*|<Pipeline[A-Za-z0-9]+>:\*)$/,
      ],
    );
    // Resource "*" only on the three roles whose calls have no resource known at synth time.
    const wholeResource: Record<string, string> = {
      'UpdatePipeline/SelfMutation/Role':
        'Self-mutation describes the stacks it deploys and lists the bootstrap buckets, which CDK Pipelines only knows at run time.',
      'Assets/FileRole': 'Asset publishing starts and watches the CodeBuild builds of the asset projects CDK Pipelines adds.',
      'Pipeline/Role':
        "Only with an environment in another region: the pipeline role encrypts and decrypts artifacts with the keys of the replication buckets, which that region's support stack creates and this stack knows by alias only.",
    };
    for (const child of this.pipeline.node.findAll()) {
      for (const [suffix, reason] of Object.entries(wholeResource)) {
        if (child.node.path.endsWith(`/Pipeline/${suffix}`)) acknowledgeWildcards(child, reason, [/^Resource::\*$/]);
      }
    }
    const artifactsBucket = this.pipeline.pipeline.artifactBucket;
    acknowledge(
      artifactsBucket,
      'AwsSolutions-S1',
      'Pipeline artifacts are transient build outputs; CodePipeline records every access.',
    );
    // Environments in other regions get a support stack with a replication bucket for the artifacts.
    for (const support of Object.values(this.pipeline.pipeline.crossRegionSupport)) {
      acknowledge(support.replicationBucket, 'AwsSolutions-S1', 'Transient copies of pipeline artifacts for another region.');
    }
    for (const child of this.pipeline.node.findAll()) {
      if (child.node.id === 'CdkBuildProject' || child.node.path.endsWith('/Synth/CdkBuildProject')) {
        acknowledge(child, 'AwsSolutions-CB4', 'Build artifacts are encrypted with the pipeline key by CodePipeline.');
      }
    }
  }
}

/** `dev` → `Dev`: the construct id of an environment's stage. */
function pascalId(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}
