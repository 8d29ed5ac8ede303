#!/usr/bin/env node
// The `lookout` command (package.json "bin": dist/bin/lookout.js): dispatches to `node` (the
// composition root, app/start-node.ts), the client commands (cli/), `dev` and `demo-target`
// (dev/). Every command answers --help; errors are one line on stderr and a non-zero exit code
// (2 for usage and configuration errors, 1 for everything else).

// First: hold the young generation before the modules below grow it (runtime/young-generation-hold.ts).
import { releaseYoungGeneration } from '../runtime/young-generation-hold';
import { startNode } from '../app/start-node';
import { runClientCommand } from '../cli/client';
import { runDemoTarget } from '../dev/demo-target';
import { runDev } from '../dev/dev-cluster';
import { ConfigError, describeSettings, loadConfig } from '../runtime/config';
import { commandFirst } from '../runtime/argv';
import { createLogger } from '../runtime/logger';
import { startMemoryGovernor } from '../runtime/memory-governor';
import { createMetrics } from '../runtime/metrics';
import { loadTurns } from '../runtime/turn-budget';

const USAGE = `Usage: lookout <command> [options]

Commands:
  node                 Run a Lookout node against NATS (NATS_URL, default nats://127.0.0.1:4222)
  dev                  Start a local dev cluster: nats-server, 3 nodes, a demo target, example specs
  spec put <file|dir|-> Store check specs (JSON or YAML) — request/reply, prints the revision
  spec get <id>        Show a stored spec
  spec ls              List check ids
  spec rm <id>         Delete a check
  notify put <id> <file> Store a notifier (webhook on verdict changes); notify get <id>, notify ls, notify rm <id>
  watch [id]           Live results and verdict changes (--json for one JSON object per line)
  cluster              Members, leader and term, assignment epoch, shards and checks per node
  status [id]          Each check's verdict, since when, last result and last failure (--prefix, --label)
  history <id>         A check's uptime over 24 h / 7 d / 30 d and its verdict changes
  demo-target          Run the demo HTTP target (healthy, failing, slow and flapping endpoints)

Run "lookout <command> --help" for the options of a command.
Client commands take NATS_URL / NATS_CREDS / NATS_USER / NATS_PASSWORD / NATS_TOKEN / NATS_NKEY /
NATS_CA / NATS_CERT / NATS_KEY like the nats CLI, or -s/--server URL.
`;

const NODE_USAGE = `Usage: lookout node [flags]

Runs one Lookout node. Settings come from flags, then the environment, then defaults:

${describeSettings()}
`;

async function runNode(argv: string[]): Promise<number | 'running'> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(NODE_USAGE);
    return 0;
  }
  const cfg = loadConfig(process.env, argv);
  const log = createLogger(cfg.nodeId, cfg.logLevel);
  // The process's memory budget (LOOKOUT_MEMORY_MB) applies before the node loads anything.
  const memory = startMemoryGovernor(cfg.memoryMb, log);
  // The process's budget of bulk work per turn (LOOKOUT_LOAD_SLICE_MS; 0: off).
  loadTurns.configure(cfg.loadSliceMs);
  const metrics = createMetrics({ defaultMetrics: true });
  memory.register(metrics.registry);
  const node = await startNode(cfg, { log, metrics });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ event: 'shutdown_forced', signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ event: 'shutdown_started', signal: sig }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ event: 'shutdown_failed', err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A node that stops by itself (another process runs with its node id) exits non-zero.
  void node.ended.then(async (out) => {
    if (out.reason === 'shutdown' || signals > 0) return;
    await node.stop();
    process.stderr.write(`lookout: stopped: another process runs with node id ${JSON.stringify(cfg.nodeId)}; give each process its own LOOKOUT_NODE_ID\n`);
    process.exit(1);
  });
  return 'running';
}

/** Returns the exit code, or 'running' for long-lived commands that exit on their own. */
const COMMANDS = ['node', 'dev', 'spec', 'notify', 'watch', 'cluster', 'status', 'history', 'demo-target', 'help'];

export async function main(argv: string[]): Promise<number | 'running'> {
  const [cmd, ...rest] = commandFirst(argv, COMMANDS);
  if (cmd !== 'node') releaseYoungGeneration();
  switch (cmd) {
    case 'node':
      return runNode(rest);
    case 'dev':
      return runDev(rest);
    case 'spec':
    case 'notify':
    case 'watch':
    case 'cluster':
    case 'status':
    case 'history':
      return runClientCommand(cmd, rest, { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin });
    case 'demo-target':
      return runDemoTarget(rest);
    case undefined:
      // No command is a usage error (exit code 2); asking for help is not.
      process.stderr.write(USAGE);
      return 2;
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new ConfigError(`unknown command ${JSON.stringify(cmd)} (see lookout --help)`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 'running') process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`lookout: ${err.message}\n`);
        process.exit(2);
      }
      const e = err as Error;
      process.stderr.write(`lookout: ${e?.message ?? String(err)}\n`);
      if (process.env.LOOKOUT_DEBUG) process.stderr.write(`${e?.stack}\n`);
      process.exit(1);
    },
  );
}
