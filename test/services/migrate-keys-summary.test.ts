import { describe, expect, it } from 'vitest';
import { type KeyMove, summarizeMoves } from '../../src/services/migrate-keys.js';

describe('summarizeMoves', () => {
  it('counts the moves per table and shows the first three of each, not every item', () => {
    // Given 5 executions (one already under its new key) and 1 dataset to rewrite, and one object naming no team
    const executions: KeyMove[] = Array.from({ length: 5 }, (_, i) => ({
      table: 'ddk-dev-execution-history',
      from: `a-${i}`,
      to: `sales/a-${i}`,
      status: i === 4 ? 'kept-newer' : 'moved',
    }));
    const lines = summarizeMoves({
      env: 'dev',
      dryRun: false,
      confirmed: true,
      moves: [...executions, { table: 'ddk-dev-datasets', from: 'sales-orders', to: 'sales/orders', status: 'moved' }],
      teamless: [{ table: 'ddk-dev-object-metadata', key: 's3://raw/stray.json' }],
    });
    // Then each table has a count line, at most three moves and how many more
    expect(lines).toEqual([
      '  ddk-dev-execution-history: 5 item(s), 1 of them already under the new key (the newer item is kept)',
      '    a-0 → sales/a-0',
      '    a-1 → sales/a-1',
      '    a-2 → sales/a-2',
      '    … and 2 more (--json lists every move)',
      '  ddk-dev-datasets: 1 item(s)',
      '    sales-orders → sales/orders',
      '  kept (names no team): ddk-dev-object-metadata: s3://raw/stray.json',
    ]);
  });

  it('says when there is nothing to rewrite', () => {
    expect(summarizeMoves({ env: 'dev', dryRun: true, confirmed: true, moves: [], teamless: [] })).toEqual([
      '  nothing to rewrite',
    ]);
  });
});
