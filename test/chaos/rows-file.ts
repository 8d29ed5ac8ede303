// Where the chaos tests collect their rows (one JSON line each): LOOKOUT_CHAOS_ROWS, or a file in
// the temp dir. table-setup.ts empties it, each test appends, table-teardown.ts prints the table.

import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function rowsFile(): string {
  return process.env.LOOKOUT_CHAOS_ROWS ?? join(tmpdir(), 'lookout-chaos-rows.jsonl');
}
