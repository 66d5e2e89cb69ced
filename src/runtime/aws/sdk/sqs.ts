/**
 * The Amazon SQS SDK code of the runtime: the client and what `SqsQueue` sends. Imported statically by a
 * handler that needs SQS on every invocation, dynamically by one that needs it on some (`lazyClient`).
 */
export {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
