/**
 * {@link QueuePort} on Amazon SQS FIFO queues.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { OutgoingMessage, QueuePort, ReceivedMessage, ReceiveOptions } from '../core/ports.js';
import { type ClientSource, clientGetter } from './clients.js';

const sdk = () => import('./sdk/sqs.js');

/** SQS accepts at most 10 entries per batch call. */
const BATCH = 10;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < items.length; at += BATCH) out.push(items.slice(at, at + BATCH));
  return out;
}

function failIfAny(
  action: string,
  queueUrl: string,
  failed: ReadonlyArray<{ Id?: string; Code?: string; Message?: string }> | undefined,
) {
  if (!failed || failed.length === 0) return;
  const reasons = failed.map((f) => `${f.Id}: ${f.Code ?? 'error'} ${f.Message ?? ''}`.trim()).join('; ');
  throw new Error(`SQS refused to ${action} ${failed.length} message(s) on ${queueUrl}: ${reasons}`);
}

/** Sends, receives and deletes messages of SQS FIFO queues, 10 per call. */
export class SqsQueue implements QueuePort {
  private readonly sqs: () => Promise<SQSClient>;

  /** @param sqs the client, or a function creating it on first use */
  constructor(sqs: ClientSource<SQSClient>) {
    this.sqs = clientGetter(sqs);
  }

  async send(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const [sqs, { SendMessageBatchCommand }] = await Promise.all([this.sqs(), sdk()]);
    for (const chunk of chunks(messages)) {
      const response = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            MessageBody: message.body,
            MessageGroupId: message.groupId,
            MessageDeduplicationId: message.deduplicationId,
          })),
        }),
      );
      failIfAny('accept', queueUrl, response.Failed);
    }
  }

  async receive(queueUrl: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const [sqs, { ReceiveMessageCommand }] = await Promise.all([this.sqs(), sdk()]);
    const out: ReceivedMessage[] = [];
    while (out.length < options.max) {
      const response = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(BATCH, options.max - out.length),
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
          ...(options.visibilityTimeoutSeconds === undefined ? {} : { VisibilityTimeout: options.visibilityTimeoutSeconds }),
        }),
      );
      const messages = response.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        if (!message.MessageId || !message.ReceiptHandle) continue;
        const groupId = message.Attributes?.MessageGroupId;
        out.push({
          id: message.MessageId,
          body: message.Body ?? '',
          receiptHandle: message.ReceiptHandle,
          ...(groupId ? { groupId } : {}),
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
        });
      }
    }
    return out;
  }

  async delete(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    const [sqs, { DeleteMessageBatchCommand }] = await Promise.all([this.sqs(), sdk()]);
    for (const chunk of chunks(receiptHandles)) {
      const response = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })),
        }),
      );
      failIfAny('delete', queueUrl, response.Failed);
    }
  }

  async release(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    const [sqs, { ChangeMessageVisibilityBatchCommand }] = await Promise.all([this.sqs(), sdk()]);
    for (const chunk of chunks(receiptHandles)) {
      const response = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
      failIfAny('release', queueUrl, response.Failed);
    }
  }
}
