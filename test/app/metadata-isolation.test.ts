import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/index.js';
import { loadProject } from '../../src/config/load.js';
import { Naming, type TableKind } from '../../src/config/naming.js';
import { runtimeClientConfig } from '../../src/runtime/aws/clients.js';
import { DynamoMetadataStore } from '../../src/runtime/aws/dynamo-metadata-store.js';
import { METADATA_KEYS } from '../../src/runtime/contract.js';
import { tempDir } from '../helpers/project.js';
import { createLake, type LakeFixture, useMoto } from '../runtime/aws/moto.js';
import { allStackArtifacts, synthNagClean, templateOf, testBuildOptions, writeProject } from './helpers.js';

const ACCOUNT = '222222222222';
const REGION = 'us-east-1';
const naming = new Naming({ prefix: 'ddk', env: 'dev', account: ACCOUNT, region: REGION });

/** One DynamoDB request the store sent: its action, table and the partition keys it names. */
interface Call {
  readonly action: string;
  readonly table: string;
  readonly index?: string;
  readonly keys: readonly string[];
}

/** The partition key attribute of the table a request names (its kind from the lake's table names). */
const partitionKeyOf = (kinds: ReadonlyMap<string, string>, table: string): string =>
  METADATA_KEYS[kinds.get(table) as keyof typeof METADATA_KEYS].partitionKey;

/** Records every request a {@link DynamoMetadataStore} sends while the runtime's calls of `team` run on moto. */
async function recordCalls(lake: LakeFixture, team: string): Promise<Call[]> {
  const client = new DynamoDBClient(runtimeClientConfig());
  const calls: Call[] = [];
  const tableKinds = new Map(Object.entries(lake.tables).map(([kind, name]) => [name, kind]));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        TableName?: string;
        IndexName?: string;
        Item?: Record<string, unknown>;
        Key?: Record<string, unknown>;
        ExpressionAttributeValues?: Record<string, unknown>;
        RequestItems?: Record<string, { Keys: Array<Record<string, unknown>> }>;
      };
      const action = String(context.commandName).replace(/Command$/, '');
      const s = (v: unknown): string => (typeof v === 'string' ? v : String((v as { S?: string } | undefined)?.S));
      if (action === 'BatchGetItem') {
        for (const [table, { Keys }] of Object.entries(input.RequestItems ?? {})) {
          const pk = partitionKeyOf(tableKinds, table);
          calls.push({ action, table, keys: Keys.map((k) => s(k[pk])) });
        }
      } else {
        const pk = partitionKeyOf(tableKinds, String(input.TableName));
        const keys =
          action === 'Query'
            ? [s(Object.values(input.ExpressionAttributeValues ?? {})[0])]
            : action === 'Scan'
              ? []
              : [s((input.Item ?? input.Key)?.[pk])];
        calls.push({ action, table: String(input.TableName), ...(input.IndexName ? { index: input.IndexName } : {}), keys });
      }
      return next(args);
    },
    { step: 'build', name: 'recordCalls' },
  );
  const store = new DynamoMetadataStore(client, lake.tables);
  const at = '2026-01-01T00:00:00.000Z';
  const dataset = 'orders';
  const staged = `s3://stage/${team}/${dataset}/t/f.jsonl`;
  // Every call a team pipeline role makes (routing, the triggers, the steps), through the store's own code paths
  await store.putObject(team, {
    id: `s3://raw/${team}/${dataset}/x.json`,
    bucket: 'raw',
    key: `${team}/${dataset}/x.json`,
    stage: 'raw',
    status: 'ROUTED',
    team,
    dataset,
    recordedAt: at,
  });
  await store.putStagedObject({
    id: staged,
    bucket: 'stage',
    key: `${team}/${dataset}/t/f.jsonl`,
    stage: 'stage',
    status: 'STAGED',
    team,
    dataset,
    source: 's3://raw/x',
    recordedAt: at,
  });
  await store.startExecution(
    {
      id: 'a-1',
      stage: 'a',
      team,
      dataset,
      pipeline: 'standard',
      datasetKey: `${team}/${dataset}`,
      startedAt: at,
      source: 's3://raw/x',
      expiresAt: 4_000_000_000,
    },
    at,
  );
  await store.transition(team, 'a-1', 'PROCESSING', { at });
  await store.getDataset(team, dataset);
  await store.putDataset({ name: `${team}/${dataset}`, team, dataset, version: 1, updatedAt: at } as never);
  await store.recordPipelineRun({
    team,
    pipeline: 'standard',
    stage: 'a',
    execution: { executionId: 'a-1', dataset, status: 'SUCCEEDED', at },
  });
  await store.stagedClaims(team, [staged]);
  await store.claimStaged(team, [staged], 'b-1');
  await store.releaseStaged(team, [staged], 'b-1');
  return calls;
}

/** A CloudFormation value as text, with the stack's pseudo parameters. */
function flatten(value: unknown): unknown {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten);
  if (value && typeof value === 'object') {
    if ('Fn::Join' in value) {
      const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      return parts.map(flatten).join(separator);
    }
    if ('Ref' in value) {
      const ref = String((value as { Ref: unknown }).Ref);
      return ref === 'AWS::Partition'
        ? 'aws'
        : ref === 'AWS::Region'
          ? REGION
          : ref === 'AWS::AccountId'
            ? ACCOUNT
            : `own:${ref}`;
    }
    if ('Fn::GetAtt' in value || 'Fn::ImportValue' in value) return 'own:ref';
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flatten(v)]));
  }
  return value;
}

describe('metadata items of team sales and team sales-eu', { timeout: 240_000 }, () => {
  let policies: Record<string, Array<{ name: string; policy: unknown }>>;
  let lake: LakeFixture;

  beforeAll(async () => {
    useMoto();
    lake = await createLake();
    const root = writeProject({
      dev: [
        { team: 'sales', dataset: 'orders' },
        { team: 'sales-eu', dataset: 'orders' },
      ],
    });
    const project = await loadProject(root);
    const stacks = allStackArtifacts(synthNagClean(await buildApp(project, testBuildOptions({ outdir: tempDir('sdlf-out-') }))));
    policies = {};
    for (const team of ['sales', 'sales-eu']) {
      const names = [naming.pipelineStack(team, 'standard'), naming.datasetStack(team, 'orders')];
      policies[team] = stacks
        .filter((s) => names.includes(s.stackName))
        .flatMap((s) =>
          // A role's grants are in its inline policy; grants to another stack's roles are AWS::IAM::Policy resources
          Object.entries(templateOf(s).Resources).flatMap(([id, r]) => {
            const documents =
              r.Type === 'AWS::IAM::Policy'
                ? [r.Properties?.PolicyDocument]
                : r.Type === 'AWS::IAM::Role'
                  ? ((r.Properties?.Policies ?? []) as Array<{ PolicyDocument: unknown }>).map((p) => p.PolicyDocument)
                  : [];
            return documents.map((document) => ({ name: `${s.stackName}/${id}`, policy: flatten(document) }));
          }),
        );
    }
  });

  async function decide(team: string, call: Call): Promise<string[]> {
    const kind = Object.entries(lake.tables).find(([, name]) => name === call.table)?.[0] as string;
    const tableKind = (
      {
        objectMetadata: 'object-metadata',
        datasets: 'datasets',
        pipelines: 'pipelines',
        executionHistory: 'execution-history',
      } as Record<string, TableKind>
    )[kind] as TableKind;
    const arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${naming.table(tableKind)}${call.index ? `/index/${call.index}` : ''}`;
    const results: string[] = [];
    for (const { name, policy } of policies[team] ?? []) {
      const result = await runSimulation(
        {
          identityPolicies: [{ name: 'p', policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: {
            action: `dynamodb:${call.action}`,
            principal: `arn:aws:iam::${ACCOUNT}:role/${team}`,
            resource: { resource: arn, accountId: ACCOUNT },
            contextVariables: call.keys.length > 0 ? { 'dynamodb:LeadingKeys': [...call.keys] } : {},
          },
        },
        {},
      );
      expect(result.resultType, JSON.stringify(result)).not.toBe('error');
      if (result.resultType !== 'error' && result.overallResult === 'Allowed') results.push(name);
    }
    return results;
  }

  it("allows each team's roles every call the store makes for the team, and none for the other team's keys or a Scan", async () => {
    for (const [team, other] of [
      ['sales', 'sales-eu'],
      ['sales-eu', 'sales'],
    ] as const) {
      const own = await recordCalls(lake, team);
      const theirs = await recordCalls(lake, other);
      expect(new Set(own.map((c) => c.action))).toEqual(new Set(['PutItem', 'GetItem', 'UpdateItem', 'BatchGetItem']));
      for (const call of own) {
        expect(
          call.keys.every((k) => k.startsWith(`${team}/`)),
          JSON.stringify(call),
        ).toBe(true);
        expect(await decide(team, call), `${team} ${JSON.stringify(call)}`).not.toEqual([]);
      }
      for (const call of theirs) expect(await decide(team, call), `${team} → ${JSON.stringify(call)}`).toEqual([]);
      for (const table of Object.values(lake.tables)) {
        expect(await decide(team, { action: 'Scan', table, keys: [] }), `${team} scans ${table}`).toEqual([]);
      }
      // A batch read with one key of the other team is denied whole
      const batch = own.find((c) => c.action === 'BatchGetItem') as Call;
      expect(
        await decide(team, { ...batch, keys: [...batch.keys, ...(theirs.find((c) => c.action === 'BatchGetItem')?.keys ?? [])] }),
      ).toEqual([]);
    }
  });
});
