// Jest globalTeardown of the chaos suite: print every scenario's row as one Markdown table, and
// the examples behind each broken invariant.

import { formatExamples, formatTable, readRows } from '../../testkit/chaos/table';
import { rowsFile } from './rows-file';

export default function teardown(): void {
  const rows = readRows(rowsFile());
  if (!rows.length) return;
  process.stdout.write(`\nchaos suite (${rowsFile()}):\n\n${formatTable(rows)}\n\n${formatExamples(rows)}\n`);
}
