import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/index.js';
import { loadProject } from '../../src/config/load.js';
import { Naming, type PhysicalName } from '../../src/config/naming.js';
import { tempDir } from '../helpers/project.js';
import { allStackArtifacts, synthNagClean, type TemplateJson, templateOf, testBuildOptions, writeProject } from './helpers.js';

const naming = new Naming({ prefix: 'ddk', env: 'dev', account: '222222222222', region: 'us-east-1' });
const ACCOUNT = '222222222222';
const REGION = 'us-east-1';

/** Stands for a reference to one resource of the stack itself: it matches no name. */
const OWN = '\u0000own\u0000';

/**
 * A CloudFormation value as text: pseudo parameters become the stack's partition, region and account; any other
 * reference (Fn::GetAtt of the stack's own resources, the keys' ARNs from SSM parameters) becomes {@link OWN};
 * Fn::Join is joined. The foundations' buckets and tables are named in the templates as they are.
 */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Fn::Join' in value) {
    const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map(flatten).join(separator);
  }
  const ref = value && typeof value === 'object' && 'Ref' in value ? String((value as { Ref: unknown }).Ref) : undefined;
  if (ref === 'AWS::Partition') return 'aws';
  if (ref === 'AWS::Region') return REGION;
  if (ref === 'AWS::AccountId') return ACCOUNT;
  return OWN;
}

/** An IAM resource pattern as a regular expression. */
function patternOf(resource: string): RegExp {
  const escaped = resource
    .replaceAll(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`);
}

/** The ARNs (and S3 object ARNs under its prefixes) of a team's pipeline and dataset. */
function arnsOf(team: string, pipeline: string, dataset: string): string[] {
  const arn = (name: PhysicalName): string[] => {
    const head = `arn:aws`;
    switch (name.kind) {
      case 'sqs':
        return [`${head}:sqs:${REGION}:${ACCOUNT}:${name.value}`];
      case 'lambda':
        return [`${head}:lambda:${REGION}:${ACCOUNT}:function:${name.value}`];
      case 'stateMachine':
        return [`${head}:states:${REGION}:${ACCOUNT}:stateMachine:${name.value}`];
      case 'glueJob':
        return [`${head}:glue:${REGION}:${ACCOUNT}:job/${name.value}`];
      case 'glueDatabase':
        return [
          `${head}:glue:${REGION}:${ACCOUNT}:database/${name.value}`,
          `${head}:glue:${REGION}:${ACCOUNT}:table/${name.value}/t`,
        ];
      case 'ssmParameter':
        return [`${head}:ssm:${REGION}:${ACCOUNT}:parameter${name.value}`];
      case 'iamRole':
        return [`${head}:iam::${ACCOUNT}:role/${name.value}`];
      case 'eventRule':
        return [`${head}:events:${REGION}:${ACCOUNT}:rule/${name.value}`];
      default:
        return [];
    }
  };
  const objects = ['raw', 'stage', 'analytics', 'artifacts'].flatMap((kind) => [
    `arn:aws:s3:::${naming.bucket(kind as 'raw')}/${team}/${dataset}/file.json`,
    `arn:aws:s3:::${naming.bucket(kind as 'raw')}/manifests/${team}/${dataset}/batch.json`,
  ]);
  return [...naming.pipelineNames(team, pipeline), ...naming.datasetNames(team, dataset)].flatMap(arn).concat(objects);
}

/**
 * Every `aws:SourceArn` a resource policy of a template admits (queue policies, Lambda permissions), flattened:
 * who may send to a team's queues or invoke its functions.
 */
function admittedSources(template: TemplateJson): Array<{ logicalId: string; source: string }> {
  const out: Array<{ logicalId: string; source: string }> = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Permission' && props.SourceArn) out.push({ logicalId, source: flatten(props.SourceArn) });
    if (resource.Type !== 'AWS::SQS::QueuePolicy') continue;
    for (const statement of (props.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement) {
      const conditions = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
      for (const operator of ['ArnLike', 'ArnEquals', 'StringLike', 'StringEquals']) {
        const source = conditions[operator]?.['aws:SourceArn'];
        if (statement.Effect === 'Allow' && source !== undefined) out.push({ logicalId, source: flatten(source) });
      }
    }
  }
  return out;
}

/** Every allowed resource of every IAM policy and inline role policy of a template, flattened. */
function allowedResources(template: TemplateJson): Array<{ logicalId: string; action: unknown; resource: string }> {
  const out: Array<{ logicalId: string; action: unknown; resource: string }> = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const documents =
      resource.Type === 'AWS::IAM::Policy'
        ? [props.PolicyDocument]
        : resource.Type === 'AWS::IAM::Role'
          ? ((props.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []).map((p) => p.PolicyDocument)
          : [];
    for (const document of documents) {
      for (const statement of (document as { Statement: Array<Record<string, unknown>> }).Statement) {
        if (statement.Effect !== 'Allow') continue;
        const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        for (const r of resources) out.push({ logicalId, action: statement.Action, resource: flatten(r) });
      }
    }
  }
  return out;
}

/** What may list a bucket: `s3:ListBucket` itself or a wildcard that covers it. */
const LISTS_BUCKET = /^s3:(ListBucket|List\*|\*)$|^\*$/;

/**
 * Every allowed bucket listing of a template's IAM policies: the bucket and the `s3:prefix` patterns its condition
 * admits (undefined: any prefix, the whole bucket).
 */
function allowedListings(template: TemplateJson): Array<{ logicalId: string; bucket: string; prefixes?: string[] }> {
  const out: Array<{ logicalId: string; bucket: string; prefixes?: string[] }> = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::Role') continue;
    const props = resource.Properties ?? {};
    const documents =
      resource.Type === 'AWS::IAM::Policy'
        ? [props.PolicyDocument]
        : ((props.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []).map((p) => p.PolicyDocument);
    for (const document of documents) {
      for (const statement of (document as { Statement: Array<Record<string, unknown>> }).Statement) {
        const actions = [statement.Action].flat() as string[];
        if (statement.Effect !== 'Allow' || !actions.some((a) => LISTS_BUCKET.test(a))) continue;
        const like = (statement.Condition as { StringLike?: Record<string, unknown> } | undefined)?.StringLike?.['s3:prefix'];
        for (const r of [statement.Resource].flat()) {
          const arn = flatten(r);
          if (!arn.startsWith('arn:aws:s3:::') || arn.includes('/')) continue;
          out.push({
            logicalId,
            bucket: arn.slice('arn:aws:s3:::'.length),
            ...(like ? { prefixes: [like].flat() as string[] } : {}),
          });
        }
      }
    }
  }
  return out;
}

describe('team isolation', { timeout: 240_000 }, () => {
  it('gives no IAM statement of team sales a resource of team sales-eu, nor the other way round', async () => {
    // Given teams sales and sales-eu, and a sales dataset whose names start like sales-eu's ("eu-archive")
    const root = writeProject({
      dev: [
        { team: 'sales', dataset: 'orders' },
        { team: 'sales', dataset: 'eu-archive' },
        { team: 'sales-eu', dataset: 'refunds' },
      ],
    });
    const project = await loadProject(root);
    const stacks = allStackArtifacts(synthNagClean(await buildApp(project, testBuildOptions({ outdir: tempDir('sdlf-out-') }))));
    const stacksOf = (team: string, datasets: string[]) =>
      stacks.filter((s) =>
        [naming.pipelineStack(team, 'standard'), ...datasets.map((d) => naming.datasetStack(team, d))].includes(s.stackName),
      );
    const teams = {
      sales: {
        stacks: stacksOf('sales', ['orders', 'eu-archive']),
        arns: [...arnsOf('sales', 'standard', 'orders'), ...arnsOf('sales', 'standard', 'eu-archive')],
      },
      'sales-eu': { stacks: stacksOf('sales-eu', ['refunds']), arns: arnsOf('sales-eu', 'standard', 'refunds') },
    };
    expect(teams.sales.stacks).toHaveLength(3);
    expect(teams['sales-eu'].stacks).toHaveLength(2);

    for (const [team, other] of [
      ['sales', 'sales-eu'],
      ['sales-eu', 'sales'],
    ] as const) {
      // When every allowed resource of the team's stacks is matched against the other team's ARNs
      const reaches: string[] = [];
      let checked = 0;
      for (const stack of teams[team].stacks) {
        for (const { logicalId, action, resource } of allowedResources(templateOf(stack))) {
          // A lone reference names one resource of the stack itself (no stack exports another's); "*" is kept for
          // actions without resource-level permissions, which cdk-nag makes each construct acknowledge.
          if (resource === OWN || resource === '*') continue;
          checked++;
          const pattern = patternOf(resource);
          for (const arn of teams[other].arns) {
            if (pattern.test(arn)) reaches.push(`${stack.stackName} ${logicalId} ${JSON.stringify(action)} ${resource} → ${arn}`);
          }
        }
      }
      // Then none matches
      expect(checked).toBeGreaterThan(20);
      expect(reaches, `${team} reaches ${other}`).toEqual([]);

      // And no resource policy of the team admits a source of the other team (a rule sending to its dead-letter
      // queue, a rule invoking its function)
      const admits: string[] = [];
      let sources = 0;
      for (const stack of teams[team].stacks) {
        for (const { logicalId, source } of admittedSources(templateOf(stack))) {
          if (source === OWN) continue;
          sources++;
          const pattern = patternOf(source);
          for (const arn of teams[other].arns)
            if (pattern.test(arn)) admits.push(`${stack.stackName} ${logicalId} ${source} → ${arn}`);
        }
      }
      expect(sources).toBeGreaterThan(0);
      expect(admits, `${team} admits ${other}`).toEqual([]);

      // And no role of the team may list the other team's keys: every listing of the raw, stage and artifacts
      // buckets names the team's prefixes in an s3:prefix condition. Only the Glue jobs list the analytics bucket
      // whole (Spark's writes need S3's 404 for keys that do not exist yet); they read and write only their prefix.
      const listings = teams[team].stacks.flatMap((stack) =>
        allowedListings(templateOf(stack)).map((l) => ({ ...l, stack: stack.stackName })),
      );
      expect(listings.length).toBeGreaterThan(5);
      const wide = listings.filter((l) => !l.prefixes).map((l) => `${l.stack} ${l.logicalId} ${l.bucket}`);
      expect(
        wide.every((l) => /GlueRole\S* ddk-dev-analytics-/.test(l)),
        wide.join('\n'),
      ).toBe(true);
      const otherKeys = teams[other].arns
        .filter((arn) => arn.startsWith('arn:aws:s3:::'))
        .map((arn) => arn.slice(arn.indexOf('/') + 1));
      const lists: string[] = [];
      for (const { stack, logicalId, bucket, prefixes } of listings) {
        for (const prefix of prefixes ?? []) {
          for (const key of otherKeys)
            if (patternOf(prefix).test(key)) lists.push(`${stack} ${logicalId} s3://${bucket} ${prefix} → ${key}`);
        }
      }
      expect(lists, `${team} lists ${other}'s keys`).toEqual([]);
    }
  });

  it('matches a name pattern of the kind a team-wide grant would use, so the check above can fail', () => {
    const [queue] = arnsOf('sales-eu', 'standard', 'refunds').filter((arn) => arn.endsWith('-refunds-stage-b.fifo'));
    expect(queue).toMatch(/^arn:aws:sqs:us-east-1:\d{12}:ddk-dev-sales-eu-refunds-stage-b\.fifo$/);
    expect(patternOf(`arn:aws:sqs:us-east-1:222222222222:${naming.stageBQueue('sales', '*')}`).test(queue ?? '')).toBe(true);
    expect(patternOf(`arn:aws:sqs:us-east-1:222222222222:${naming.stageBQueue('sales', 'orders')}`).test(queue ?? '')).toBe(
      false,
    );
  });
});
