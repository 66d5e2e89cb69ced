import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleInGroupOrder } from '../../../src/runtime/handlers/fifo-batch.js';

const record = (messageId: string, group?: string) =>
  ({ messageId, body: messageId, attributes: group === undefined ? {} : { MessageGroupId: group } }) as unknown as SQSRecord;

describe('handleInGroupOrder', () => {
  it("returns a failed record and the later records of its group only; other groups' records are handled", async () => {
    const handled: string[] = [];
    const response = await handleInGroupOrder(
      [record('a1', 'a'), record('b1', 'b'), record('a2', 'a'), record('b2', 'b'), record('c1', 'c'), record('b3', 'b')],
      async (r) => {
        if (r.messageId === 'b1') throw new Error('poison');
        handled.push(r.messageId);
      },
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['b1', 'b2', 'b3']);
    expect(handled).toEqual(['a1', 'a2', 'c1']);
  });

  it('stops the rest of the batch after a failed record without a group (a standard queue)', async () => {
    const handled: string[] = [];
    const response = await handleInGroupOrder([record('x'), record('y', 'g'), record('z')], async (r) => {
      if (r.messageId === 'x') throw new Error('poison');
      handled.push(r.messageId);
    });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['x', 'y', 'z']);
    expect(handled).toEqual([]);
  });

  it('returns no failures when every record is handled', async () => {
    expect(await handleInGroupOrder([record('a1', 'a'), record('b1', 'b')], async () => undefined)).toEqual({
      batchItemFailures: [],
    });
  });
});
