// `lookout dev`, as a newcomer runs it: a nats-server, 3 nodes, the demo target and the example
// specs come up; checks are shared across the nodes; the NATS URL is in `<dir>/env`; a second
// `lookout dev` on the same folder is refused, naming the first; a node that dies is reported at
// once; Ctrl-C (SIGINT) stops everything it started and gives the folder back.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/poll';
import { runLookout, type LookoutProcess } from '../helpers/processes';

jest.setTimeout(90_000);

let dev: LookoutProcess;
let children: number[] = [];
const dir = mkdtempSync(join(tmpdir(), 'lookout-dev-test-'));

afterAll(async () => {
  dev?.signal('SIGKILL');
  // The children run in process groups of their own: a killed `lookout dev` does not take them along.
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('dev: cluster up, example checks shared across nodes with verdicts, Ctrl-C leaves no process behind', async () => {
  dev = runLookout(['dev', '--dir', dir, '--metrics-port', '0'], { HOME: process.env.HOME ?? '/root' });
  const pids = await waitFor('the dev cluster started', () => {
    const out = dev.output();
    const found = [...out.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    return found.length === 4 && found; // nats-server + 3 nodes
  }, { timeoutMs: 30_000 });
  children = pids;
  expect(pids.every(alive)).toBe(true);
  const url = /on (nats:\/\/127\.0\.0\.1:\d+)/.exec(dev.output())![1];
  expect(readFileSync(join(dir, 'env'), 'utf8')).toContain(`export NATS_URL=${url}\n`);

  // A second dev cluster on the same folder is refused and names the first.
  const second = runLookout(['dev', '--dir', dir, '--metrics-port', '0'], { HOME: process.env.HOME ?? '/root' });
  expect(await second.exited).not.toBe(0);
  expect(second.output()).toContain(`a dev cluster already runs on ${dir} (lookout dev, pid ${dev.proc.pid}, NATS_URL=${url})`);
  expect(pids.every(alive)).toBe(true);
  await waitFor('example specs seeded', () => (dev.output().match(/^put demo-\S+ revision \d+$/gm) ?? []).length >= 5, { timeoutMs: 30_000 });
  const line = await waitFor('status shows three nodes sharing the checks, with verdicts', () => {
    const lines = dev.output().split('\n').filter((l) => l.startsWith('[status]'));
    const last = lines[lines.length - 1];
    if (!last) throw new Error('no status line yet');
    const counts = [...last.matchAll(/dev-\d (\d+) checks/g)].map((m) => Number(m[1]));
    const m = /(\d+) up, (\d+) down/.exec(last);
    if (counts.length !== 3 || counts.filter((n) => n > 0).length < 2 || !m || Number(m[1]) === 0 || Number(m[2]) === 0) throw new Error(last);
    return last;
  }, { timeoutMs: 45_000 });
  expect(line).toMatch(/leader dev-\d term \d+ epoch \d+/);

  // A node that dies is reported at once, with the end of its log.
  const victim = pids[3]!;
  process.kill(victim, 'SIGKILL');
  await waitFor('the dead node reported', () => new RegExp(`node dev-\\d \\(pid ${victim}\\) exited \\(SIGKILL\\); the end of `).test(dev.output()), { timeoutMs: 10_000 });

  dev.signal('SIGINT');
  expect(await dev.exited).toBe(0);
  expect(dev.output()).toContain('stopped: nats-server, nodes and demo target are gone');
  await waitFor('every child process gone', () => pids.every((p) => !alive(p)) || `still alive: ${pids.filter(alive)}`, { timeoutMs: 5000 });
  expect(existsSync(join(dir, 'lock'))).toBe(false);
  expect(existsSync(join(dir, 'env'))).toBe(false);
});
