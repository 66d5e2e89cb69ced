import { GetRepositoryCommand, ListTagsForResourceCommand as ListRepositoryTagsCommand } from '@aws-sdk/client-codecommit';
import { DescribeTableCommand, ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, paginateListAliases } from '@aws-sdk/client-kms';
import { paginateGetResources } from '@aws-sdk/client-resource-groups-tagging-api';
import { bucketExists, bucketTags, bucketUsage } from '../../aws/buckets.js';
import type { AwsClients } from '../../aws/clients.js';
import { isAwsError } from '../../aws/errors.js';
import { foreignStackReason, hasOwnProjectId } from '../../aws/ownership.js';
import { environmentStackPrefix, environmentStacks, type StackRole } from '../../aws/project-stacks.js';
import { BOOTSTRAP_STACK, listStackResources, listStacks, REVIEW_IN_PROGRESS, type StackInfo } from '../../aws/stacks.js';
import { type AwsTarget, namingOf } from '../../aws/target.js';
import type { DeploymentEnvironment, Project } from '../../config/model.js';
import { BUCKET_KINDS, Naming, SDLF_TAG_KEYS, TABLE_KINDS } from '../../config/naming.js';
import { lakeFormationAdminsParameter, readRecordedAdmins } from '../bootstrap.js';
import type { Inventory } from './plan.js';

/** Options of {@link discoverInventory}. */
export interface DiscoverOptions {
  /** Includes the CodeCommit repository (only from the cicd account). */
  readonly includeRepository: boolean;
  /** Includes the CDK bootstrap stack (only when no other stack of the account and region remains). */
  readonly includeBootstrap: boolean;
}

type Tags = Readonly<Record<string, string>>;

const hasProjectTags = (tags: Tags, prefix: string, projectId: string | undefined, env?: string) =>
  tags[SDLF_TAG_KEYS.project] === prefix &&
  (env === undefined || tags[SDLF_TAG_KEYS.environment] === env) &&
  hasOwnProjectId(tags, projectId);

/**
 * Finds what the project owns in the target's account and region, by stack name and `sdlf:project` /
 * `sdlf:environment` / `sdlf:project-id` tags together: a stack, bucket, table or key counts only when all match
 * (a project made before ids owns only what carries no id), so another project with the same prefix is never
 * planned. Anything with a
 * matching name but other tags, other environments' and prefixes' resources, and shared things (the CI/CD pipeline
 * for an environment, the bootstrap stack while other stacks use it) are reported as untouched.
 */
export async function discoverInventory(
  clients: AwsClients,
  project: Project,
  target: AwsTarget,
  options: DiscoverOptions,
): Promise<Inventory> {
  const all = await listStacks(clients);
  const discovery: Discovery = { clients, project, target, untouched: [] };
  const environment = target.environment;
  const stacks = ownedStacks(discovery, all);
  const found = await stackResources(discovery, stacks);
  if (environment) await addLeftoverResources(discovery, environment, found);
  const keys = await liveCustomerKeyIds(clients, found.keys);

  const ours = new Set(stacks.map((s) => s.name));
  const others = all.filter((s) => !ours.has(s.name) && s.name !== BOOTSTRAP_STACK);
  const lakeFormation = environment ? await recordedLakeFormationAdmins(discovery, others) : undefined;
  const repository = options.includeRepository ? await findRepository(clients, project, target, discovery.untouched) : undefined;
  const bootstrap = await bootstrapStackOf(discovery, all, others, options.includeBootstrap);
  return {
    stacks,
    buckets: [...found.buckets].sort(),
    tables: [...found.tables].sort(),
    keys: [...keys].sort(),
    lakeFormation,
    repository,
    bootstrap,
    untouched: discovery.untouched,
  };
}

/** What a discovery looks at, and the list of what it leaves alone (with the reason), in the order found. */
interface Discovery {
  readonly clients: AwsClients;
  readonly project: Project;
  readonly target: AwsTarget;
  readonly untouched: string[];
}

type OwnedStack = { name: string; role: StackRole; status: string; unexecuted?: boolean };

/** Physical ids of the buckets, tables and keys found so far. */
interface FoundResources {
  readonly buckets: Set<string>;
  readonly tables: Set<string>;
  readonly keys: Set<string>;
}

/** The environment's own stacks, or, for the cicd environment, the CI/CD pipeline stack when it is the project's. */
function ownedStacks({ project, target, untouched }: Discovery, all: readonly StackInfo[]): OwnedStack[] {
  const stacks: OwnedStack[] = [];
  const environment = target.environment;
  if (environment) {
    stacks.push(...environmentOwnedStacks(all, project, environment, target, untouched));
  }
  const cicdName = Naming.cicdStack(project.cicd.resourcePrefix);
  const cicdStack = all.find((s) => s.name === cicdName);
  if (cicdStack) {
    if (environment) {
      untouched.push(
        `stack ${cicdName}: the CI/CD pipeline serves every environment; delete it with "sdlf delete-all --env cicd"`,
      );
    } else if (hasProjectTags(cicdStack.tags, project.cicd.resourcePrefix, project.projectId)) {
      stacks.push({ name: cicdName, role: 'cicd', status: cicdStack.status });
    } else {
      untouched.push(
        foreignStackReason(cicdStack, project.projectId) ??
          `stack ${cicdName}: it lacks the tag ${SDLF_TAG_KEYS.project}=${project.cicd.resourcePrefix}`,
      );
    }
  }
  return stacks;
}

/**
 * The buckets, tables and keys of the stacks; marks a stack `unexecuted` when it is an empty `REVIEW_IN_PROGRESS`
 * one. A stack whose resources cannot be listed is noted, and its resources are left to the search by name and tags.
 */
async function stackResources({ clients, untouched }: Discovery, stacks: OwnedStack[]): Promise<FoundResources> {
  const found: FoundResources = { buckets: new Set(), tables: new Set(), keys: new Set() };
  for (const stack of stacks) {
    const resources = await listStackResources(clients, stack.name).catch((error: unknown) => {
      untouched.push(
        `resources of stack ${stack.name} could not be listed (${(error as Error).message}); its buckets, tables and keys are found by name and tags instead`,
      );
      return undefined;
    });
    // A change set created and never executed leaves an empty stack that no wait ever ends; it is deleted first.
    if (stack.status === REVIEW_IN_PROGRESS && resources?.length === 0) stack.unexecuted = true;
    if (!resources) continue;
    for (const resource of resources) {
      const id = resource.PhysicalResourceId;
      if (!id || resource.ResourceStatus === 'DELETE_COMPLETE') continue;
      if (resource.ResourceType === 'AWS::S3::Bucket') found.buckets.add(id);
      else if (resource.ResourceType === 'AWS::DynamoDB::Table' || resource.ResourceType === 'AWS::DynamoDB::GlobalTable')
        found.tables.add(id);
      else if (resource.ResourceType === 'AWS::KMS::Key') found.keys.add(id);
    }
  }
  return found;
}

/**
 * Adds what the environment's stacks no longer hold: buckets and tables with the project's names and tags, and
 * keys with its tags or behind its aliases. A name match with other tags is noted as untouched.
 */
async function addLeftoverResources(
  discovery: Discovery,
  environment: DeploymentEnvironment,
  found: FoundResources,
): Promise<void> {
  const { clients, project, target, untouched } = discovery;
  const naming = namingOf(target, environment);
  const prefix = environment.resourcePrefix;
  const lacksTags = `it lacks the tags ${SDLF_TAG_KEYS.project}=${prefix}, ${SDLF_TAG_KEYS.environment}=${environment.id}`;
  for (const bucket of BUCKET_KINDS.map((kind) => naming.bucket(kind))) {
    if (found.buckets.has(bucket) || !(await bucketExists(clients, bucket))) continue;
    if (hasProjectTags(await bucketTags(clients, bucket), prefix, project.projectId, environment.id)) found.buckets.add(bucket);
    else untouched.push(`bucket ${bucket}: ${lacksTags}`);
  }
  for (const table of TABLE_KINDS.map((kind) => naming.table(kind))) {
    if (found.tables.has(table)) continue;
    const tags = await tableTags(clients, table);
    if (!tags) continue;
    if (hasProjectTags(tags, prefix, project.projectId, environment.id)) found.tables.add(table);
    else untouched.push(`table ${table}: ${lacksTags}`);
  }
  const tagged = await taggedKeys(clients, prefix, environment.id, project.projectId).catch((error: unknown) => {
    untouched.push(
      `KMS keys could not be searched by tag (${(error as Error).message.split('\n')[0]}); keys are found through the stacks and aliases`,
    );
    return [];
  });
  for (const arn of tagged) found.keys.add(arn);
  // Keys behind the environment's aliases (`alias/{prefix}-{env}-…`), while the foundations stack still has them.
  for (const keyId of await aliasedKeys(clients, `alias/${prefix}-${environment.id}-`)) found.keys.add(keyId);
}

/** The ids of the customer-managed keys among `keys` that are not pending deletion yet. */
async function liveCustomerKeyIds(clients: AwsClients, keys: ReadonlySet<string>): Promise<Set<string>> {
  const live = new Set<string>();
  for (const key of keys) {
    const id = await liveCustomerKeyId(clients, key);
    if (id) live.add(id);
  }
  return live;
}

/**
 * The Lake Formation admins bootstrap recorded for the environment; left alone (and noted) while other sdlf stacks
 * of the account and region still need them.
 */
async function recordedLakeFormationAdmins(
  { clients, target, untouched }: Discovery,
  others: readonly StackInfo[],
): Promise<Inventory['lakeFormation']> {
  const parameter = lakeFormationAdminsParameter(target);
  const admins = await readRecordedAdmins(clients, parameter);
  const sharing = others.filter((s) => s.tags[SDLF_TAG_KEYS.project] !== undefined).map((s) => s.name);
  if (admins.length > 0 && sharing.length > 0) {
    untouched.push(`Lake Formation admins ${admins.join(', ')}: still needed by ${sharing.join(', ')}`);
    return undefined;
  }
  return admins.length > 0 ? { admins, parameter } : undefined;
}

/**
 * The CDK bootstrap stack with its staging bucket, when asked for and no other stack uses it. A staging bucket that
 * stays is noted with what it keeps.
 */
async function bootstrapStackOf(
  { clients, target, untouched }: Discovery,
  all: readonly StackInfo[],
  others: readonly StackInfo[],
  includeBootstrap: boolean,
): Promise<Inventory['bootstrap']> {
  let bootstrap: Inventory['bootstrap'];
  const bootstrapStack = all.find((s) => s.name === BOOTSTRAP_STACK);
  const staging = bootstrapStack
    ? (await listStackResources(clients, BOOTSTRAP_STACK)).find(
        (r) => r.ResourceType === 'AWS::S3::Bucket' && r.ResourceStatus !== 'DELETE_COMPLETE',
      )?.PhysicalResourceId
    : undefined;
  if (includeBootstrap && bootstrapStack) {
    if (others.length > 0) {
      untouched.push(`stack ${BOOTSTRAP_STACK}: other stacks still use it (${others.map((s) => s.name).join(', ')})`);
    } else {
      bootstrap = { stack: BOOTSTRAP_STACK, stagingBucket: staging };
    }
  }
  if (staging && !bootstrap && (await bucketExists(clients, staging))) {
    // Assets are stored by content hash for every CDK app of the account and region: none can be told to be ours.
    const usage = await bucketUsage(clients, staging);
    const rerun = `sdlf delete-all --env ${target.envId} --include-bootstrap`;
    untouched.push(
      `bucket ${staging}: the shared CDK bootstrap bucket keeps ${usage.objects} asset object(s) (${formatBytes(usage.bytes)}) of every CDK app in aws://${target.account}/${target.region}, this project's templates and Lambda code included; they go with "${rerun}" once no other stack uses the bootstrap`,
    );
  }
  return bootstrap;
}

/** The environment's stacks: named `{prefix}-{env}-…` and tagged with the prefix and the environment. */
function environmentOwnedStacks(
  all: readonly StackInfo[],
  project: Project,
  environment: DeploymentEnvironment,
  target: AwsTarget,
  untouched: string[],
): Array<{ name: string; role: StackRole; status: string }> {
  const configured = new Map(
    environmentStacks(namingOf(target, environment), project.datasets[environment.id] ?? []).map((s) => [s.name, s.role]),
  );
  const foundations = namingOf(target, environment).foundationsStack();
  const owned: Array<{ name: string; role: StackRole; status: string }> = [];
  for (const stack of all) {
    if (!stack.name.startsWith(environmentStackPrefix(environment))) continue;
    if (!hasProjectTags(stack.tags, environment.resourcePrefix, project.projectId, environment.id)) {
      const prefixAndEnv =
        stack.tags[SDLF_TAG_KEYS.project] === environment.resourcePrefix &&
        stack.tags[SDLF_TAG_KEYS.environment] === environment.id;
      untouched.push(
        (prefixAndEnv ? foreignStackReason(stack, project.projectId) : undefined) ??
          `stack ${stack.name}: it lacks the tags ${SDLF_TAG_KEYS.project}=${environment.resourcePrefix}, ${SDLF_TAG_KEYS.environment}=${environment.id}`,
      );
      continue;
    }
    // A stack no longer in parameters.json (a removed dataset) is still the project's: its tags say what it is.
    const role: StackRole =
      stack.name === foundations
        ? 'foundations'
        : (configured.get(stack.name) ??
          (stack.tags[SDLF_TAG_KEYS.dataset] || !stack.tags[SDLF_TAG_KEYS.team] ? 'dataset' : 'pipeline'));
    owned.push({ name: stack.name, role, status: stack.status });
  }
  return owned;
}

async function tableTags(clients: AwsClients, table: string): Promise<Tags | undefined> {
  try {
    const described = await clients.dynamoDb.send(new DescribeTableCommand({ TableName: table }));
    const arn = described.Table?.TableArn;
    if (!arn) return undefined;
    const reply = await clients.dynamoDb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
    return Object.fromEntries((reply.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

async function taggedKeys(clients: AwsClients, prefix: string, env: string, projectId: string | undefined): Promise<string[]> {
  const arns: string[] = [];
  const pages = paginateGetResources(
    { client: clients.tagging },
    {
      ResourceTypeFilters: ['kms:key'],
      TagFilters: [
        { Key: SDLF_TAG_KEYS.project, Values: [prefix] },
        { Key: SDLF_TAG_KEYS.environment, Values: [env] },
      ],
    },
  );
  for await (const page of pages) {
    for (const r of page.ResourceTagMappingList ?? []) {
      const tags = Object.fromEntries((r.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      if (r.ResourceARN && hasOwnProjectId(tags, projectId)) arns.push(r.ResourceARN);
    }
  }
  return arns;
}

async function aliasedKeys(clients: AwsClients, aliasPrefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of paginateListAliases({ client: clients.kms }, {})) {
    for (const alias of page.Aliases ?? [])
      if (alias.AliasName?.startsWith(aliasPrefix) && alias.TargetKeyId) ids.push(alias.TargetKeyId);
  }
  return ids;
}

/** The id of a customer-managed key that is not pending deletion yet; undefined otherwise. */
async function liveCustomerKeyId(clients: AwsClients, key: string): Promise<string | undefined> {
  try {
    const meta = (await clients.kms.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata;
    return meta?.KeyManager === 'CUSTOMER' && meta.KeyState !== 'PendingDeletion' ? meta.KeyId : undefined;
  } catch (error) {
    if (isAwsError(error, 'NotFoundException')) return undefined;
    throw error;
  }
}

async function findRepository(
  clients: AwsClients,
  project: Project,
  target: AwsTarget,
  untouched: string[],
): Promise<string | undefined> {
  const source = project.cicd.source;
  if (source.provider !== 'codecommit') {
    untouched.push(`repository ${source.repository}: it is on a CodeConnections provider; sdlf never deletes it`);
    return undefined;
  }
  if (target.account !== project.cicd.account || target.region !== project.cicd.region) {
    untouched.push(
      `repository ${source.repository}: it lives in the cicd environment; use "sdlf delete-all --env cicd --include-repository"`,
    );
    return undefined;
  }
  try {
    const reply = await clients.codeCommit.send(new GetRepositoryCommand({ repositoryName: source.repository }));
    const arn = reply.repositoryMetadata?.Arn;
    const tags = arn ? ((await clients.codeCommit.send(new ListRepositoryTagsCommand({ resourceArn: arn }))).tags ?? {}) : {};
    if (tags[SDLF_TAG_KEYS.project] !== project.cicd.resourcePrefix) {
      untouched.push(
        `repository ${source.repository}: it lacks the tag ${SDLF_TAG_KEYS.project}=${project.cicd.resourcePrefix} (sdlf did not create it)`,
      );
      return undefined;
    }
    return source.repository;
  } catch (error) {
    if (isAwsError(error, 'RepositoryDoesNotExistException')) return undefined;
    throw error;
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
