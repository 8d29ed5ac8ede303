// LeadOnce (protocol/lead-once.ts): the legacy-key migration runs when the node first leads, not at
// every view while it leads; a failed run waits for the next lead; a done one never runs again.
import { LeadOnce } from '../../protocol/lead-once';

/** A task whose runs the test settles by hand. */
function tasks() {
  const runs: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const task = () => new Promise<void>((resolve, reject) => runs.push({ resolve, reject }));
  return { runs, once: new LeadOnce(task) };
}
const settle = () => new Promise((r) => setImmediate(r));

test.each<[string, (string | boolean)[], number, string]>([
  // name, views (true/false: leading or not; ok/fail: settle the last run), runs, final status
  ['not leading: never runs', [false, false], 0, 'waiting'],
  ['runs when the node first leads, once while it leads', [false, true, true, true], 1, 'running'],
  ['done: never again, not even on a later lead', [true, 'ok', true, false, true], 1, 'done'],
  ['failed: not again while it still leads', [true, 'fail', true, true], 1, 'waiting'],
  ['failed: again on the next lead', [true, 'fail', false, true], 2, 'running'],
  ['a lead that ends while it runs starts no second run', [true, false, true, 'ok', true], 1, 'done'],
  ['failed twice, done on the third lead', [true, 'fail', false, true, 'fail', false, true, 'ok'], 3, 'done'],
])('%s', async (_name, views, runs, status) => {
  const t = tasks();
  for (const v of views) {
    if (v === 'ok') t.runs.at(-1)!.resolve();
    else if (v === 'fail') t.runs.at(-1)!.reject(new Error('no responders'));
    else t.once.note(v as boolean);
    await settle();
  }
  expect({ runs: t.runs.length, status: t.once.status }).toEqual({ runs, status });
});
