import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

/**
 * Handles the records of an SQS batch in order and returns the partial batch response. On a FIFO queue the order
 * holds within a message group: after a record fails, the later records of its group are returned unhandled (so
 * they come back after it, in order), while the records of other groups go on. A record without a group id (a
 * standard queue) stops the rest of the batch, which is the safe reading when the groups are not known.
 */
export async function handleInGroupOrder(
  records: readonly SQSRecord[],
  handle: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const failedGroups = new Set<string>();
  let stopped = false;
  for (const record of records) {
    const group = record.attributes?.MessageGroupId;
    if (stopped || (group !== undefined && failedGroups.has(group))) {
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      await handle(record);
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
      if (group === undefined) stopped = true;
      else failedGroups.add(group);
    }
  }
  return { batchItemFailures };
}
