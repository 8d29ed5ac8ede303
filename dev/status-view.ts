// The dev cluster's live screen: the cluster (members, leader, term), every check's last result
// with its message, the NATS URL to use from another shell, and the latest verdict changes in the
// order they happened (by their own time, not by arrival), a bounded list.

import { formatCluster, table, type ClusterStatusReply } from '../cli/format';

export interface CheckRow {
  status: string;
  node: string;
  latencyMs: number;
  reason: string | null;
  message: string | null;
  at: string;
}

/** Verdict changes kept for the screen (it shows the newest few). */
export const TRANSITIONS_KEPT = 50;
const TRANSITIONS_SHOWN = 5;
const MESSAGE_WIDTH = 60;

export interface TransitionLine {
  at: string;
  text: string;
}

export class StatusView {
  readonly checks = new Map<string, CheckRow>();
  cluster: ClusterStatusReply | null = null;
  private readonly changes: TransitionLine[] = [];

  constructor(private readonly natsUrl: string, private readonly envFile: string | null = null) {}

  /** A verdict change, placed by its own time (`at`, ISO): messages from several nodes arrive out of order. */
  addTransition(t: TransitionLine): void {
    let i = this.changes.length;
    while (i > 0 && this.changes[i - 1]!.at > t.at) i--;
    this.changes.splice(i, 0, t);
    if (this.changes.length > TRANSITIONS_KEPT) this.changes.splice(0, this.changes.length - TRANSITIONS_KEPT);
  }

  transitions(): readonly TransitionLine[] {
    return this.changes;
  }

  /** One line for logs and non-terminals. */
  summary(): string {
    const c = this.cluster;
    const perNode = (c?.members ?? []).map((m) => `${m.node} ${m.checks} checks`).join(', ');
    // The published verdicts (protocol/published-verdict.ts): degraded and flapping only when some check is.
    const count = (v: string) => [...this.checks.values()].filter((r) => r.status === v).length;
    const verdicts = ['up', 'degraded', 'down', 'flapping'].map((v) => [v, count(v)] as const).filter(([v, n]) => n > 0 || v === 'up' || v === 'down');
    return `[status] leader ${c?.leader?.node ?? '?'} term ${c?.term ?? '?'} epoch ${c?.epoch ?? '?'} | ${perNode || 'no members yet'} | ${verdicts.map(([v, n]) => `${n} ${v}`).join(', ')}`;
  }

  render(): string {
    const lines = [this.cluster ? formatCluster(this.cluster) : 'waiting for lookout.cluster.status…', ''];
    const rows = [['CHECK', 'STATUS', 'NODE', 'LATENCY', 'REASON', 'MESSAGE']];
    for (const [id, r] of [...this.checks].sort(([a], [b]) => (a < b ? -1 : 1))) rows.push([id, r.status, r.node, `${Math.round(r.latencyMs)} ms`, r.reason ?? '', clip(r.message ?? '', MESSAGE_WIDTH)]);
    lines.push(table(rows, new Set([3])));
    const shown = this.changes.slice(-TRANSITIONS_SHOWN);
    if (shown.length) lines.push('', 'Recent verdict changes:', ...shown.map((t) => `  ${t.text}`));
    lines.push('', `NATS_URL=${this.natsUrl}${this.envFile ? `   (in another shell: source ${this.envFile}; ./lookout watch)` : ''}`);
    return lines.join('\n');
  }
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
