/**
 * The Amazon DynamoDB SDK code of the runtime: the client and what `DynamoMetadataStore` sends. Imported
 * statically by a handler that needs DynamoDB on every invocation, dynamically by one that needs it on some
 * (`lazyClient`).
 */
export { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
