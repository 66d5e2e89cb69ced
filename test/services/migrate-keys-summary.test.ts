import { describe, expect, it } from 'vitest';
import { summarizeMoves } from '../../src/services/migrate-keys.js';

describe('summarizeMoves', () => {
  it('counts the moves per table and shows its examples, not every item', () => {
    // Given a pass over 5 executions (one already under its new key), 1 dataset, and 4 objects naming no team
    const lines = summarizeMoves({
      tables: [
        {
          table: 'ddk-dev-execution-history',
          items: 5,
          keptNewer: 1,
          examples: [0, 1, 2].map((i) => ({ from: `a-${i}`, to: `sales/a-${i}` })),
        },
        { table: 'ddk-dev-datasets', items: 1, keptNewer: 0, examples: [{ from: 'sales-orders', to: 'sales/orders' }] },
      ],
      teamless: {
        count: 4,
        examples: [1, 2, 3].map((i) => ({ table: 'ddk-dev-object-metadata', key: `s3://raw/stray-${i}.json` })),
      },
    });
    // Then each table has a count line, its examples and how many more
    expect(lines).toEqual([
      '  ddk-dev-execution-history: 5 item(s), 1 of them already under the new key (the newer item is kept)',
      '    a-0 → sales/a-0',
      '    a-1 → sales/a-1',
      '    a-2 → sales/a-2',
      '    … and 2 more',
      '  ddk-dev-datasets: 1 item(s)',
      '    sales-orders → sales/orders',
      '  kept (names no team): ddk-dev-object-metadata: s3://raw/stray-1.json',
      '  kept (names no team): ddk-dev-object-metadata: s3://raw/stray-2.json',
      '  kept (names no team): ddk-dev-object-metadata: s3://raw/stray-3.json',
      '  … and 1 more that name no team',
    ]);
  });

  it('says when there is nothing to rewrite', () => {
    expect(summarizeMoves({ tables: [], teamless: { count: 0, examples: [] } })).toEqual(['  nothing to rewrite']);
  });
});
