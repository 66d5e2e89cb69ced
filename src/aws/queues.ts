import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { REDRIVE_ATTRIBUTE } from '../runtime/contract.js';
import { deduplicationIdOf } from '../runtime/core/ids.js';
import type { AwsClients } from './clients.js';
import { isAwsError } from './errors.js';

/** Finds a queue's URL by name; undefined when it does not exist. */
export async function queueUrl(clients: AwsClients, name: string): Promise<string | undefined> {
  try {
    return (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (isAwsError(error, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')) return undefined;
    throw error;
  }
}

/** Approximate number of visible and in-flight messages of a queue. */
export async function queueDepth(clients: AwsClients, url: string): Promise<{ visible: number; inFlight: number }> {
  const reply = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(reply.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(reply.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Options of {@link moveMessages}. */
export interface MoveMessagesOptions {
  readonly from: string;
  readonly to: string;
  /** Moves only the messages this accepts; the others stay where they are. @default every message */
  readonly filter?: (message: Message) => boolean;
  /** Seconds a received message stays hidden while the move runs. @default 300 */
  readonly visibilityTimeout?: number;
  /** Called after each moved message. */
  readonly onMoved?: (count: number) => void;
}

/**
 * Deduplication id of a dead letter sent back to its FIFO source queue: a SHA-256 of its original deduplication id
 * (or, without one, its message id) and the dead letter's own message id. Reusing the original id would let SQS
 * drop the copy silently when it was first sent less than 5 minutes ago
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html).
 * The dead letter's message id stays the same however often it is received, so a redrive that crashed after
 * sending and is run again sends nothing twice; a later failure of the copy is a new dead letter with a new message
 * id, so redriving it again gets through.
 */
export function redriveDeduplicationIdOf(message: Message): string {
  const original = message.Attributes?.MessageDeduplicationId ?? message.MessageId ?? '';
  return deduplicationIdOf('redrive', original, message.MessageId ?? '');
}

/**
 * Moves every message of queue `from` to queue `to`: each one is sent (body, message attributes, and for FIFO
 * queues its group id and a new deduplication id, see {@link redriveDeduplicationIdOf}) and only then deleted, so
 * a failure leaves a copy rather than losing it. Messages the filter rejects are made visible again at the end.
 * Returns the counts.
 */
export async function moveMessages(clients: AwsClients, options: MoveMessagesOptions): Promise<{ moved: number; kept: number }> {
  const fifo = options.to.endsWith('.fifo');
  const held: Array<{ Id: string; ReceiptHandle: string }> = [];
  let moved = 0;
  for (;;) {
    const reply = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.from,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: options.visibilityTimeout ?? 300,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    const messages = reply.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      if (!message.ReceiptHandle) continue;
      if (options.filter && !options.filter(message)) {
        held.push({ Id: `m${held.length}`, ReceiptHandle: message.ReceiptHandle });
        continue;
      }
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.to,
          MessageBody: message.Body ?? '',
          // Marks the copy as redriven: only such a message restarts a stage A execution that FAILED.
          MessageAttributes: {
            ...message.MessageAttributes,
            [REDRIVE_ATTRIBUTE]: { DataType: 'String', StringValue: new Date().toISOString() },
          },
          ...(fifo
            ? {
                MessageGroupId: message.Attributes?.MessageGroupId,
                MessageDeduplicationId: redriveDeduplicationIdOf(message),
              }
            : {}),
        }),
      );
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: options.from, ReceiptHandle: message.ReceiptHandle }));
      moved += 1;
      options.onMoved?.(moved);
    }
  }
  for (let i = 0; i < held.length; i += 10) {
    await clients.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: options.from,
        Entries: held.slice(i, i + 10).map((h) => ({ ...h, VisibilityTimeout: 0 })),
      }),
    );
  }
  return { moved, kept: held.length };
}
