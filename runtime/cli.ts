#!/usr/bin/env node
// The `lookout` command. `lookout node` runs a node against NATS_URL.

import { ConfigError, describeSettings, loadConfig } from './config';
import { createLogger } from './logger';
import { startNode } from './start-node';

const USAGE = `Usage: lookout <command> [flags]

Commands:
  node      Run a Lookout node against NATS (NATS_URL, default nats://127.0.0.1:4222)

Flags and environment (flags win):
${describeSettings()}
`;

async function runNode(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const cfg = loadConfig(process.env, argv);
  const log = createLogger(cfg.nodeId, cfg.logLevel);
  const node = await startNode(cfg, { log });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal: sig }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'node':
      return runNode(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new ConfigError(`unknown command ${JSON.stringify(cmd)} (see lookout --help)`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`lookout: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`lookout: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
