// One Jest test per chaos scenario of the short profile (testkit/chaos/scenarios.ts): run it, add
// its row to the rows file (printed as one table by table-teardown.ts), and fail with the broken
// invariants, examples of each, the harness's notes and where the node logs are. The invariants
// are asserted as they are: a scenario that breaks one on today's code fails.

import { appendRow, tableRow } from '../../testkit/chaos/table';
import { closeOpenHarnesses, runScenario, scenario, SHORT } from '../../testkit/chaos/scenarios';
import { rowsFile } from './rows-file';

/** A scenario takes 20–40 s on a quiet machine; the guard leaves room for a loaded one. */
const SCENARIO_TIMEOUT_MS = 300_000;

// A scenario stopped by the timeout still holds its processes: close them.
afterAll(closeOpenHarnesses);

export function chaosTest(name: string): void {
  test(
    name,
    async () => {
      const run = await runScenario(scenario(name), SHORT);
      appendRow(rowsFile(), run.row);
      process.stdout.write(`${tableRow(run.row)}\n`);
      if (run.row.broken.length) {
        const lines = [`${name}: broken invariants: ${run.row.broken.join(', ')}`, ...run.row.examples.map((e) => `  ${e}`), ...run.notes.map((n) => `  note: ${n}`), `  node logs: ${run.runDir}`];
        throw new Error(lines.join('\n'));
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
}
