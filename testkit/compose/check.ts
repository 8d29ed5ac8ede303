// The compose run's eyes (test/compose/run.sh calls it; needs `npm run build`): asks the running
// compose cluster from the host through its published ports — NATS monitoring pages and the
// `lookout` CLI with --json — and waits, with a deadline, until an expectation of
// expectations.ts holds. On timeout it says what it was waiting for and what it last saw, and
// exits 1.
//
//   node dist/testkit/compose/check.js ports                  export lines: a free port for each unset host-port variable
//   node dist/testkit/compose/check.js put-spread N           store N more checks on the demo target
//   node dist/testkit/compose/check.js snapshot FILE          each check's last result, for probed-since
//   node dist/testkit/compose/check.js wait EXPECTATION [ARG...]
//     nats-cluster | seeded [FILE] | members [NODE,...] | spread [NODE,...] | verdicts | probed-since FILE [NOT_BY]
//
// Environment: the host-port variables of docker-compose.yml (their defaults when unset),
// LOOKOUT_COMPOSE_WAIT_S (each wait's deadline, default 180), LOOKOUT_COMPOSE_EXPECT_NODES (the
// alive member count `members` expects; default the compose file's node count).

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port';
import { waitFor } from '../wait';
import { readComposeFacts } from './compose-file';
import * as expect from './expectations';
import { readNatsView } from './nats-view';

const ROOT = join(__dirname, '..', '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'lookout.js');
const facts = readComposeFacts(ROOT);
const SPREAD_PREFIX = 'compose-spread-';

const hostPort = (name: string): number => {
  const set = process.env[name];
  return set !== undefined && set !== '' ? Number(set) : facts.hostPorts.find((h) => h.name === name)!.default;
};
const natsUrls = () => facts.nats.map((n) => `nats://127.0.0.1:${hostPort(n.clientVar)}`).join(',');

/** `lookout <args> --json` against the compose cluster; its stdout parsed. */
function lookout(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, '-s', natsUrls(), '--timeout', '3000', ...args], { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`lookout ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(args.includes('--json') ? JSON.parse(stdout) : stdout);
    });
  });
}

async function natsServers(): Promise<expect.NatsServerView[]> {
  return Promise.all(facts.nats.map((n) => readNatsView(n.service, hostPort(n.monitorVar))));
}

/** The example specs (examples/specs): their ids, and the verdicts their `expect` labels promise. */
function examples(): { ids: string[]; expected: Record<string, 'up' | 'down'> } {
  const dir = join(ROOT, 'examples', 'specs');
  const specs = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { id: string; labels?: Record<string, string> });
  const expected: Record<string, 'up' | 'down'> = {};
  for (const s of specs) if (s.labels?.expect === 'up' || s.labels?.expect === 'down') expected[s.id] = s.labels.expect;
  return { ids: specs.map((s) => s.id), expected };
}

const states = async (): Promise<expect.StateView[]> => lookout(['status', '--json']);
const readSnapshot = (file: string): expect.Snapshot => JSON.parse(readFileSync(file, 'utf8'));
const nodesArg = (arg: string | undefined) => (arg ? arg.split(',') : facts.nodeIds);

/** One look at the cluster for `name`. */
async function look(name: string, args: string[]): Promise<expect.Verdict> {
  switch (name) {
    case 'nats-cluster':
      return expect.natsClusterFormed(await natsServers(), { services: facts.nats.map((n) => n.service), clusterName: facts.nats[0]!.clusterName });
    case 'seeded':
      return expect.specsStored(await lookout(['spec', 'ls', '--json']), args[0] ? Object.keys(readSnapshot(args[0])) : examples().ids);
    case 'members': {
      // LOOKOUT_COMPOSE_EXPECT_NODES overrides the count of the full cluster only (no NODE list given)
      const count = args[0] ? nodesArg(args[0]).length : Number(process.env.LOOKOUT_COMPOSE_EXPECT_NODES || facts.nodeIds.length);
      return expect.membersAre(await lookout(['cluster', '--json']), nodesArg(args[0]), count);
    }
    case 'spread': {
      const all = await states();
      return expect.spreadOver(all, all.map((s) => s.checkId), nodesArg(args[0]));
    }
    case 'verdicts': {
      const all = await states();
      const spread = Object.fromEntries(all.filter((s) => s.checkId.startsWith(SPREAD_PREFIX)).map((s) => [s.checkId, 'up' as const]));
      return expect.verdictsAsLabelled(all, { ...examples().expected, ...spread });
    }
    case 'probed-since':
      return expect.probedSince(await states(), readSnapshot(args[0]!), args[1]);
    default:
      throw new Error(`unknown expectation ${name}`);
  }
}

async function wait(name: string, args: string[]): Promise<void> {
  const seconds = Number(process.env.LOOKOUT_COMPOSE_WAIT_S || 180);
  const what = [name, ...args].join(' ');
  const v = await waitFor(
    what,
    async () => {
      const r = await look(name, args);
      if (!r.ok) throw new Error(r.why);
      return r;
    },
    seconds * 1000,
    1000,
  );
  console.log(`compose-test: ok: ${what}: ${v.detail}`);
}

/** N checks of the demo target's /healthy, so that "spread over the nodes" is about more than the 7 examples. */
async function putSpread(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-compose-spread-'));
  try {
    for (let i = 1; i <= n; i++) {
      const id = `${SPREAD_PREFIX}${String(i).padStart(2, '0')}`;
      writeFileSync(join(dir, `${id}.json`), JSON.stringify({ id, kind: 'http', target: '${DEMO_URL}/healthy', intervalMs: 5000, timeoutMs: 2000, labels: { example: 'compose-test', expect: 'up' } }));
    }
    process.stdout.write(await lookout(['spec', 'put', '--wait', '60000', dir], { DEMO_URL: facts.demoUrl }, 90_000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'ports': {
      const taken = new Set(facts.hostPorts.map((h) => Number(process.env[h.name] || 0)));
      for (const h of facts.hostPorts) {
        let port = Number(process.env[h.name] || 0);
        while (!port || (taken.has(port) && !process.env[h.name])) port = await freePort();
        taken.add(port);
        console.log(`export ${h.name}=${port}`);
      }
      return;
    }
    case 'put-spread':
      return putSpread(Number(args[0] ?? 24));
    case 'snapshot':
      writeFileSync(args[0]!, JSON.stringify(expect.snapshot(await states())));
      return;
    case 'wait':
      return wait(args[0]!, args.slice(1));
    default:
      throw new Error(`usage: check.js ports | put-spread N | snapshot FILE | wait EXPECTATION [ARG...]`);
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`compose-test: FAILED: ${err.message}`);
  process.exit(1);
});
