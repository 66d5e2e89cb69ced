import type { OutgoingMessage, QueuePort, ReceivedMessage } from '../runtime/core/ports.js';

/** How long a FIFO queue remembers a deduplication id, as SQS does. */
const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

/** Options of {@link createInProcessQueue}. */
export interface InProcessQueueOptions {
  /** Returns the current time (deduplication window, visibility). @default () => new Date() */
  readonly clock?: () => Date;
  /** Seconds a received message stays hidden when `receive` does not say. @default 30 */
  readonly visibilityTimeoutSeconds?: number;
}

/** A {@link QueuePort} held in memory, with a peek for summaries and tests. */
export interface InProcessQueue extends QueuePort {
  /** Number of messages in a queue, visible or not. */
  depth(queueUrl: string): number;
}

interface Stored {
  readonly id: string;
  readonly message: OutgoingMessage;
  receiveCount: number;
  receiptHandle?: string;
  /** Epoch ms until which the message is hidden. */
  hiddenUntil: number;
}

/**
 * Creates the FIFO queues of `sdlf run --local`, in memory: messages keep their order, a deduplication id seen
 * within 5 minutes is dropped as SQS drops it, received messages are hidden until deleted, released or their
 * visibility timeout ends, and a message group with a message in flight delivers nothing else until it is done.
 */
export function createInProcessQueue(options: InProcessQueueOptions = {}): InProcessQueue {
  const clock = options.clock ?? (() => new Date());
  const defaultVisibility = options.visibilityTimeoutSeconds ?? 30;
  const queues = new Map<string, Stored[]>();
  const seen = new Map<string, Map<string, number>>();
  let counter = 0;

  const queueOf = (url: string) => {
    let queue = queues.get(url);
    if (!queue) {
      queue = [];
      queues.set(url, queue);
    }
    return queue;
  };

  return {
    async send(queueUrl, messages) {
      const queue = queueOf(queueUrl);
      const ids = seen.get(queueUrl) ?? new Map<string, number>();
      seen.set(queueUrl, ids);
      const now = clock().getTime();
      for (const message of messages) {
        const last = ids.get(message.deduplicationId);
        if (last !== undefined && now - last < DEDUPLICATION_WINDOW_MS) continue;
        ids.set(message.deduplicationId, now);
        counter += 1;
        queue.push({ id: `local-${counter}`, message, receiveCount: 0, hiddenUntil: 0 });
      }
    },
    async receive(queueUrl, { max, visibilityTimeoutSeconds }) {
      const queue = queueOf(queueUrl);
      const now = clock().getTime();
      const busyGroups = new Set(queue.filter((m) => m.hiddenUntil > now).map((m) => m.message.groupId));
      const out: ReceivedMessage[] = [];
      for (const stored of queue) {
        if (out.length >= max) break;
        if (stored.hiddenUntil > now || busyGroups.has(stored.message.groupId)) continue;
        counter += 1;
        stored.receiveCount += 1;
        stored.receiptHandle = `${stored.id}#${counter}`;
        stored.hiddenUntil = now + (visibilityTimeoutSeconds ?? defaultVisibility) * 1000;
        out.push({
          id: stored.id,
          body: stored.message.body,
          receiptHandle: stored.receiptHandle,
          groupId: stored.message.groupId,
          receiveCount: stored.receiveCount,
        });
      }
      return out;
    },
    async delete(queueUrl, receiptHandles) {
      const handles = new Set(receiptHandles);
      queues.set(
        queueUrl,
        queueOf(queueUrl).filter((m) => !(m.receiptHandle && handles.has(m.receiptHandle))),
      );
    },
    async release(queueUrl, receiptHandles) {
      const handles = new Set(receiptHandles);
      for (const m of queueOf(queueUrl)) if (m.receiptHandle && handles.has(m.receiptHandle)) m.hiddenUntil = 0;
    },
    depth: (queueUrl) => queueOf(queueUrl).length,
  };
}
