import {
  CreateQueueCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.js';
import { moveMessages, redriveDeduplicationIdOf } from '../../src/aws/queues.js';
import { useMoto } from '../lifecycle/moto.js';

// Each suite against the shared moto_server uses its own region.
const region = 'ap-south-1';

describe('redriveDeduplicationIdOf', () => {
  const message = (id: string, dedup?: string): Message => ({
    MessageId: id,
    ...(dedup ? { Attributes: { MessageDeduplicationId: dedup } } : {}),
  });

  it.each([
    ['a new dead letter of the same original', message('m1', 'k1'), message('m2', 'k1'), false],
    ['the same dead letter received again', message('m1', 'k1'), message('m1', 'k1'), true],
    ['dead letters of two originals', message('m1', 'k1'), message('m1', 'k2'), false],
    ['the same dead letter without a deduplication id', message('m1'), message('m1'), true],
  ])('gives %s the same id: %s', (_, first, second, same) => {
    // Given two dead letters / When their redrive ids are derived / Then they match only for the same dead letter
    expect(redriveDeduplicationIdOf(first) === redriveDeduplicationIdOf(second)).toBe(same);
  });

  it('differs from the original deduplication id and fits SQS limits', () => {
    const id = redriveDeduplicationIdOf(message('m1', 'k1'));
    expect(id).not.toBe('k1');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('moveMessages', () => {
  let sqs: SQSClient;
  const fifo = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true' } }))).QueueUrl ?? '';
  const receiveAll = async (url: string) =>
    (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
        }),
      )
    ).Messages ?? [];

  beforeAll(() => {
    useMoto();
    sqs = new SQSClient({ region });
  });

  it('delivers a message redriven within 5 minutes of its first send, in its FIFO group', async () => {
    // Given a message sent to a FIFO queue, consumed, and dead-lettered with the same deduplication id
    const [source, dlq] = [await fifo('redrive-source.fifo'), await fifo('redrive-dlq.fifo')];
    const original = { MessageBody: '{"n":1}', MessageGroupId: 'g1', MessageDeduplicationId: 'k1' };
    await sqs.send(new SendMessageCommand({ QueueUrl: source, ...original }));
    const [first] = await receiveAll(source);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: source, ReceiptHandle: first?.ReceiptHandle }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, ...original }));

    // When it is redriven right away
    const result = await moveMessages(createAwsClients({ region }), { from: dlq, to: source });

    // Then it reaches the source queue again, in its group, and leaves the DLQ
    expect(result).toEqual({ moved: 1, kept: 0 });
    const arrived = await receiveAll(source);
    expect(arrived.map((m) => [m.Body, m.Attributes?.MessageGroupId])).toEqual([['{"n":1}', 'g1']]);
    expect(arrived[0]?.Attributes?.MessageDeduplicationId).not.toBe('k1');
    expect(await receiveAll(dlq)).toEqual([]);
  });
});
