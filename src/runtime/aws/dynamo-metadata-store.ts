/**
 * {@link MetadataStore} on the four DynamoDB metadata tables.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BatchGetCommandOutput, DynamoDBDocumentClient, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS } from '../contract.js';
import {
  executionKeyOf,
  heldBatches,
  lastRunField,
  loadedItem,
  objectKeyOf,
  pipelineItemOf,
  stagedKeyOwner,
  startedExecution,
  storedExecutionItem,
  storedObjectItem,
  transitionedExecution,
} from '../core/metadata-items.js';
import {
  type DatasetItem,
  datasetKeyOf,
  type ExecutionItem,
  type ExecutionStatus,
  type NewExecution,
  type ObjectMetadataItem,
  type PipelineRun,
  type TransitionDetails,
} from '../core/model.js';
import type { ListExecutionsOptions, MetadataStore, StagedObjectItem, StartExecutionResult } from '../core/ports.js';
import { type ClientSource, clientGetter, isAwsError, lazyClient } from './clients.js';

const sdk = () => import('./sdk/dynamodb.js');

/** Physical names of the metadata tables. */
export interface MetadataTables {
  readonly objectMetadata: string;
  readonly datasets: string;
  readonly pipelines: string;
  readonly executionHistory: string;
}

/** Times a conditional write is retried when another writer changed the item in between. */
const MAX_CONFLICTS = 5;

/**
 * Reads and writes the metadata tables. Execution items change by read → apply the shared rules
 * (`core/executions.ts`) → conditional put on the status and `updatedAt` read, retried on a conflict, so two
 * concurrent steps can never both win.
 */
export class DynamoMetadataStore implements MetadataStore {
  private readonly doc: () => Promise<DynamoDBDocumentClient>;

  /** @param client the client, or a function creating it on first use */
  constructor(
    client: ClientSource<DynamoDBClient>,
    private readonly tables: MetadataTables,
  ) {
    const dynamo = clientGetter(client);
    this.doc = lazyClient(async () => {
      const [base, { DynamoDBDocumentClient }] = await Promise.all([dynamo(), sdk()]);
      return DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
    });
  }

  async putObject(team: string, item: ObjectMetadataItem): Promise<void> {
    const [doc, { PutCommand }] = await Promise.all([this.doc(), sdk()]);
    await doc.send(new PutCommand({ TableName: this.tables.objectMetadata, Item: storedObjectItem(team, item) }));
  }

  async putStagedObject(item: StagedObjectItem): Promise<string | undefined> {
    const [doc, { GetCommand, PutCommand }] = await Promise.all([this.doc(), sdk()]);
    const id = METADATA_KEYS.objectMetadata.partitionKey;
    for (let conflict = 0; conflict < MAX_CONFLICTS; conflict++) {
      try {
        await doc.send(
          new PutCommand({
            TableName: this.tables.objectMetadata,
            Item: storedObjectItem(item.team, item),
            ConditionExpression: 'attribute_not_exists(#id) OR attribute_not_exists(#source) OR #source = :source',
            ExpressionAttributeNames: { '#id': id, '#source': 'source' },
            ExpressionAttributeValues: { ':source': item.source },
          }),
        );
        return undefined;
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      }
      // Another raw object owns the key: read which (a strongly consistent read sees the winning write).
      const response = await doc.send(
        new GetCommand({
          TableName: this.tables.objectMetadata,
          Key: { [id]: objectKeyOf(item.team, item.id) },
          ConsistentRead: true,
        }),
      );
      const owner = stagedKeyOwner(response.Item as ObjectMetadataItem | undefined, item);
      if (owner !== undefined) return owner;
    }
    throw new Error(`The item of ${item.id} kept changing while it was being written; giving up after ${MAX_CONFLICTS} tries.`);
  }

  async getDataset(team: string, dataset: string): Promise<DatasetItem | undefined> {
    const [doc, { GetCommand }] = await Promise.all([this.doc(), sdk()]);
    const response = await doc.send(
      new GetCommand({
        TableName: this.tables.datasets,
        Key: { [METADATA_KEYS.datasets.partitionKey]: datasetKeyOf(team, dataset) },
      }),
    );
    return response.Item as DatasetItem | undefined;
  }

  async putDataset(item: DatasetItem): Promise<void> {
    const [doc, { PutCommand }] = await Promise.all([this.doc(), sdk()]);
    await doc.send(new PutCommand({ TableName: this.tables.datasets, Item: item }));
  }

  async startExecution(execution: NewExecution, at: string): Promise<StartExecutionResult> {
    const [doc, { PutCommand }] = await Promise.all([this.doc(), sdk()]);
    for (let conflict = 0; conflict < MAX_CONFLICTS; conflict++) {
      const existing = await this.getExecution(execution.team, execution.id);
      const start = startedExecution(existing, execution, at);
      if (start.existed) return start;
      try {
        await doc.send(
          new PutCommand({
            TableName: this.tables.executionHistory,
            Item: storedExecutionItem(start.execution),
            ...(existing
              ? unchangedSince(existing)
              : { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'id' } }),
          }),
        );
        return start;
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      }
    }
    throw new Error(
      `Execution ${execution.id} kept changing while it was being started; giving up after ${MAX_CONFLICTS} tries.`,
    );
  }

  async transition(
    team: string,
    executionId: string,
    status: ExecutionStatus,
    details: TransitionDetails,
  ): Promise<ExecutionItem> {
    const [doc, { PutCommand }] = await Promise.all([this.doc(), sdk()]);
    for (let conflict = 0; conflict < MAX_CONFLICTS; conflict++) {
      const item = await this.getExecution(team, executionId);
      const change = transitionedExecution(executionId, item, status, details);
      if (!change.changed || !item) return change.execution;
      try {
        await doc.send(
          new PutCommand({
            TableName: this.tables.executionHistory,
            Item: storedExecutionItem(change.execution),
            ...unchangedSince(item),
          }),
        );
        return change.execution;
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      }
    }
    throw new Error(`Execution ${executionId} kept changing while moving to ${status}; giving up after ${MAX_CONFLICTS} tries.`);
  }

  async getExecution(team: string, executionId: string): Promise<ExecutionItem | undefined> {
    const [doc, { GetCommand }] = await Promise.all([this.doc(), sdk()]);
    const response = await doc.send(
      new GetCommand({
        TableName: this.tables.executionHistory,
        Key: { [METADATA_KEYS.executionHistory.partitionKey]: executionKeyOf(team, executionId) },
        ConsistentRead: true,
      }),
    );
    return response.Item ? loadedItem(response.Item as ExecutionItem) : undefined;
  }

  async listExecutions(options: ListExecutionsOptions): Promise<ExecutionItem[]> {
    const [doc, { paginateQuery, paginateScan }] = await Promise.all([this.doc(), sdk()]);
    const { datasetIndex } = METADATA_KEYS.executionHistory;
    if (options.team !== undefined && options.dataset !== undefined) {
      const items: ExecutionItem[] = [];
      const pages = paginateQuery(
        { client: doc, pageSize: Math.min(options.limit, 100) },
        {
          TableName: this.tables.executionHistory,
          IndexName: datasetIndex.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': datasetIndex.partitionKey },
          ExpressionAttributeValues: { ':pk': datasetKeyOf(options.team, options.dataset) },
          ScanIndexForward: false,
        },
      );
      for await (const page of pages) {
        items.push(...((page.Items ?? []) as ExecutionItem[]).map(loadedItem));
        if (items.length >= options.limit) break;
      }
      return items.slice(0, options.limit);
    }
    const items: ExecutionItem[] = [];
    const pages = paginateScan(
      { client: doc },
      {
        TableName: this.tables.executionHistory,
        ...(options.team === undefined
          ? {}
          : {
              FilterExpression: '#team = :team',
              ExpressionAttributeNames: { '#team': 'team' },
              ExpressionAttributeValues: { ':team': options.team },
            }),
      },
    );
    for await (const page of pages) items.push(...((page.Items ?? []) as ExecutionItem[]).map(loadedItem));
    return items.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, options.limit);
  }

  async claimStaged(team: string, objectIds: readonly string[], batchId: string): Promise<Map<string, string | undefined>> {
    const [doc, { GetCommand }] = await Promise.all([this.doc(), sdk()]);
    const holders = new Map<string, string | undefined>();
    for (const id of objectIds) {
      // The condition of claimStagedItem: the item exists and no other batch holds it.
      const claimed = await this.updateObjectIf(objectKeyOf(team, id), {
        UpdateExpression: 'SET #batch = :batch',
        ConditionExpression: 'attribute_exists(#id) AND (attribute_not_exists(#batch) OR #batch = :batch)',
        ExpressionAttributeNames: { '#id': METADATA_KEYS.objectMetadata.partitionKey, '#batch': 'batchId' },
        ExpressionAttributeValues: { ':batch': batchId },
      });
      if (claimed) {
        holders.set(id, batchId);
        continue;
      }
      // No item, or another batch holds it: read which (a strongly consistent read sees the winning write).
      const response = await doc.send(
        new GetCommand({
          TableName: this.tables.objectMetadata,
          Key: { [METADATA_KEYS.objectMetadata.partitionKey]: objectKeyOf(team, id) },
          ConsistentRead: true,
        }),
      );
      holders.set(id, (response.Item as ObjectMetadataItem | undefined)?.batchId);
    }
    return holders;
  }

  async stagedClaims(team: string, objectIds: readonly string[]): Promise<Map<string, string>> {
    const [doc, { BatchGetCommand }] = await Promise.all([this.doc(), sdk()]);
    const items = new Map<string, ObjectMetadataItem>();
    const ids = [...new Set(objectIds)];
    for (let at = 0; at < ids.length; at += BATCH_GET_KEYS) {
      let keys: Array<Record<string, unknown>> | undefined = ids
        .slice(at, at + BATCH_GET_KEYS)
        .map((id) => ({ [METADATA_KEYS.objectMetadata.partitionKey]: objectKeyOf(team, id) }));
      for (let attempt = 1; keys && keys.length > 0; attempt++) {
        if (attempt > MAX_CONFLICTS) {
          throw new Error(`DynamoDB left ${keys.length} object metadata key(s) unprocessed after ${MAX_CONFLICTS} tries.`);
        }
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, UNPROCESSED_BACKOFF_MS * attempt));
        const response: BatchGetCommandOutput = await doc.send(
          new BatchGetCommand({
            RequestItems: { [this.tables.objectMetadata]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of (response.Responses?.[this.tables.objectMetadata] ?? []) as ObjectMetadataItem[]) {
          const loaded = loadedItem(item);
          items.set(loaded.id, loaded);
        }
        keys = response.UnprocessedKeys?.[this.tables.objectMetadata]?.Keys;
      }
    }
    return heldBatches(ids, (id) => items.get(id));
  }

  async releaseStaged(team: string, objectIds: readonly string[], batchId: string): Promise<void> {
    for (const id of objectIds) {
      // Held by another batch, or by none: nothing of this batch's to give back.
      await this.updateObjectIf(objectKeyOf(team, id), {
        UpdateExpression: 'REMOVE #batch',
        ConditionExpression: '#batch = :batch',
        ExpressionAttributeNames: { '#batch': 'batchId' },
        ExpressionAttributeValues: { ':batch': batchId },
      });
    }
  }

  /** Applies a conditional update to the `ObjectMetadata` item stored under `key`; false when the condition did not hold. */
  private async updateObjectIf(
    key: string,
    update: Pick<
      UpdateCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<boolean> {
    const [doc, { UpdateCommand }] = await Promise.all([this.doc(), sdk()]);
    try {
      await doc.send(
        new UpdateCommand({
          TableName: this.tables.objectMetadata,
          Key: { [METADATA_KEYS.objectMetadata.partitionKey]: key },
          ...update,
        }),
      );
      return true;
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      return false;
    }
  }

  async recordPipelineRun(run: PipelineRun): Promise<void> {
    const [doc, { PutCommand, UpdateCommand }] = await Promise.all([this.doc(), sdk()]);
    await doc.send(new PutCommand({ TableName: this.tables.pipelines, Item: pipelineItemOf(run) }));
    try {
      await doc.send(
        new UpdateCommand({
          TableName: this.tables.datasets,
          Key: { [METADATA_KEYS.datasets.partitionKey]: datasetKeyOf(run.team, run.execution.dataset) },
          UpdateExpression: 'SET #last = :last, #updatedAt = :at',
          ConditionExpression: 'attribute_exists(#name)',
          ExpressionAttributeNames: {
            '#last': lastRunField(run.stage),
            '#updatedAt': 'updatedAt',
            '#name': METADATA_KEYS.datasets.partitionKey,
          },
          ExpressionAttributeValues: { ':last': run.execution, ':at': run.execution.at },
        }),
      );
    } catch (error) {
      // No Datasets item (the dataset was never registered by a pre-update): nothing to keep up to date.
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }
}

/** Keys of one BatchGetItem call, the most DynamoDB takes. */
const BATCH_GET_KEYS = 100;

/** Pause before asking again for keys DynamoDB left unprocessed (throttling), in ms per try. */
const UNPROCESSED_BACKOFF_MS = 50;

/** Condition of a write that must not overwrite a change made since `item` was read. */
function unchangedSince(item: ExecutionItem) {
  return {
    ConditionExpression: '#status = :status AND #updatedAt = :updatedAt AND #attempt = :attempt',
    ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt', '#attempt': 'attempt' },
    ExpressionAttributeValues: { ':status': item.status, ':updatedAt': item.updatedAt, ':attempt': item.attempt },
  };
}
