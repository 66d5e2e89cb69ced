import { describe, expect, it } from 'vitest';
import { createInProcessQueue } from '../../src/local/queue.js';

const message = (n: number, group = 'g', dedup = `d${n}`) => ({
  body: JSON.stringify({ n }),
  groupId: group,
  deduplicationId: dedup,
});

describe('createInProcessQueue', () => {
  it('delivers messages in the order they were sent', async () => {
    const queue = createInProcessQueue();
    await queue.send('q', [message(1), message(2), message(3)]);
    const received = await queue.receive('q', { max: 10 });
    expect(received.map((m) => JSON.parse(m.body).n)).toEqual([1, 2, 3]);
    expect(received.every((m) => m.receiveCount === 1)).toBe(true);
  });

  it('drops a message whose deduplication id was seen within 5 minutes', async () => {
    let now = 0;
    const queue = createInProcessQueue({ clock: () => new Date(now) });
    await queue.send('q', [message(1, 'g', 'same'), message(2, 'g', 'same')]);
    expect(queue.depth('q')).toBe(1);
    now = 5 * 60 * 1000 + 1;
    await queue.send('q', [message(3, 'g', 'same')]);
    expect(queue.depth('q')).toBe(2);
  });

  it('hides received messages until deleted, and deletes them by receipt handle', async () => {
    const queue = createInProcessQueue();
    await queue.send('q', [message(1, 'a'), message(2, 'b')]);
    const first = await queue.receive('q', { max: 1 });
    expect(await queue.receive('q', { max: 10 })).toHaveLength(1);
    await queue.delete(
      'q',
      first.map((m) => m.receiptHandle),
    );
    expect(queue.depth('q')).toBe(1);
  });

  it('holds back a message group while one of its messages is in flight, and redelivers a released one', async () => {
    const queue = createInProcessQueue();
    await queue.send('q', [message(1), message(2)]);
    const [first] = await queue.receive('q', { max: 1 });
    expect(await queue.receive('q', { max: 10 })).toEqual([]);
    await queue.release('q', [first?.receiptHandle ?? '']);
    const again = await queue.receive('q', { max: 10 });
    expect(again.map((m) => [JSON.parse(m.body).n, m.receiveCount])).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });

  it('makes a message visible again when its visibility timeout ends', async () => {
    let now = 0;
    const queue = createInProcessQueue({ clock: () => new Date(now) });
    await queue.send('q', [message(1)]);
    await queue.receive('q', { max: 1, visibilityTimeoutSeconds: 10 });
    now = 9_000;
    expect(await queue.receive('q', { max: 1 })).toEqual([]);
    now = 10_001;
    expect(await queue.receive('q', { max: 1 })).toHaveLength(1);
  });
});
