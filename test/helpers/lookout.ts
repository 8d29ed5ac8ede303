// Run Lookout nodes inside the test process against a spawned nats-server, and collect what they
// publish. Cluster tests that need separate OS processes use the CLI instead (see process helpers).

import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { loadConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { createMetrics } from '../../runtime/metrics';
import { startNode, type NodeHandle } from '../../app/start-node';
import type { NatsServer } from '../../testkit/nats-server';

let nodeSeq = 0;

/**
 * Overload detection out of the way for tests of everything else: the test machine's own load (a CI
 * worker beside three nodes) would otherwise mark nodes overloaded and have the leader move shards
 * off them mid-test (an even spread, a slot count). test/solo/overload.test.ts sets its own.
 */
export const OVERLOAD_OUT_OF_THE_WAY = { LOOKOUT_OVERLOAD_LAG_MS: '600000' } as const;

/** Settings for tests: fast protocol timers, no jitter, short grace, quiet logs (LOOKOUT_TEST_LOG=debug to see them). */
export function testEnv(server: NatsServer, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NATS_URL: server.url,
    LOOKOUT_NODE_ID: `test-${process.pid}-${++nodeSeq}`,
    LOOKOUT_LOG_LEVEL: process.env.LOOKOUT_TEST_LOG ?? 'silent',
    LOOKOUT_JITTER_MS: '0',
    LOOKOUT_SHUTDOWN_GRACE_MS: '1000',
    LOOKOUT_TIMING: 'test',
    LOOKOUT_HTTP_PORT: '0',
    ...OVERLOAD_OUT_OF_THE_WAY,
    ...overrides,
  };
}

export async function startTestNode(server: NatsServer, overrides: Record<string, string> = {}): Promise<NodeHandle> {
  const cfg = loadConfig(testEnv(server, overrides));
  return startNode(cfg, { log: createLogger(cfg.nodeId, cfg.logLevel), metrics: createMetrics({ defaultMetrics: true }) });
}

export interface Collected {
  subject: string;
  msg: any;
}

/**
 * Subscribes to `subject` and keeps every message that parses as JSON (requests with empty bodies
 * are skipped), in arrival order. Results are also indexed by check, so a test polling 300 checks
 * does not rescan every message each time.
 */
export class Collector {
  readonly messages: Collected[] = [];
  private readonly allResults: any[] = [];
  private readonly resultsByCheck = new Map<string, any[]>();
  private readonly subs: Subscription[];

  /** `subject`: one subject or several (one subscription each, collected into one list). */
  constructor(nc: NatsConnection, subject: string | readonly string[]) {
    const callback = (err: Error | null, m: Msg): void => {
      if (err || m.data.length === 0) return;
      let msg: any;
      try {
        msg = m.json();
      } catch {
        return; // not JSON (a malformed request someone else sent): not ours to keep
      }
      this.messages.push({ subject: m.subject, msg });
      if (m.subject.startsWith('lookout.result.') && typeof msg?.checkId === 'string') {
        this.allResults.push(msg);
        let list = this.resultsByCheck.get(msg.checkId);
        if (!list) this.resultsByCheck.set(msg.checkId, (list = []));
        list.push(msg);
      }
    };
    this.subs = (typeof subject === 'string' ? [subject] : subject).map((s) => nc.subscribe(s, { callback }));
  }

  of(prefix: string, checkId?: string): any[] {
    return this.messages.filter((c) => c.subject.startsWith(prefix) && (checkId === undefined || c.msg.checkId === checkId)).map((c) => c.msg);
  }

  /** Results on lookout.result.> (of one check), in arrival order. A copy: safe to keep. */
  results(checkId?: string): any[] {
    return checkId === undefined ? [...this.allResults] : [...(this.resultsByCheck.get(checkId) ?? [])];
  }

  statuses(checkId?: string): any[] {
    return this.of('lookout.status.', checkId);
  }

  stop(): void {
    for (const sub of this.subs) sub.unsubscribe();
  }
}

export async function client(server: NatsServer): Promise<NatsConnection> {
  return connect({ servers: server.url, name: 'test-client' });
}

/** Request/reply helper: JSON in, JSON out. */
export async function request(nc: NatsConnection, subject: string, body: unknown = '', timeout = 5000): Promise<any> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const m = await nc.request(subject, payload, { timeout });
  return m.json();
}
