// What the client commands print: help texts, the `watch` table, the `cluster` report. Pure
// functions of their input (no I/O), so the output format is defined in one place.

import type { QuorumStatusMessage, ResultMessage, StatusMessage } from '../protocol/records';
import { resultVerdictOf } from '../protocol/check-state';
import { COUNTED_VERDICTS } from '../protocol/verdict-counts';

// ---------------------------------------------------------------------------------------------
// Help

const CONNECTION_HELP = `Connection options (the environment is read like the node and the nats CLI do: NATS_URL,
NATS_CREDS, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_NKEY, NATS_CA, NATS_CERT, NATS_KEY,
LOOKOUT_PREFIX; an option wins over the environment):
  -s, --server URL      NATS server URL(s), comma-separated (default nats://127.0.0.1:4222)
      --creds FILE      NATS .creds file (JWT + nkey seed)
      --user USER       NATS user name (with --password)
      --password PASS   NATS password
      --token TOKEN     NATS token
      --nkey FILE       nkey seed file
      --tlsca FILE      CA certificate to verify the NATS server
      --tlscert FILE    client certificate for NATS TLS
      --tlskey FILE     client key for NATS TLS
      --prefix PREFIX   subject prefix (default lookout)
      --timeout MS      connect and request timeout in ms (default 5000)
  -h, --help            show this help`;

function help(usage: string, body: string, options: string, example: string): string {
  const opts = options ? `Options:\n${options}\n\n` : '';
  return `Usage: ${usage}\n\n${body}\n\n${opts}${CONNECTION_HELP}\n\nExample:\n${example}\n`;
}

export const HELP = {
  spec: `Usage: lookout spec <put|get|ls|rm|schema> [args] [options]

Manage check specs through the spec API (request/reply; a running Lookout node answers).

Commands:
  spec put <file|dir|->   Store specs from JSON/YAML files, a directory, or stdin ("-")
  spec get <id>           Show a stored spec and its revision
  spec ls                 List check ids
  spec rm <id>            Delete a check
  spec schema             Print the CheckSpec JSON Schema (draft 2020-12)

Run "lookout spec <command> --help" for the options of a command.

Example:
  lookout spec put checks/ && lookout spec ls
`,
  notify: `Usage: lookout notify <put|get|ls|rm> [args] [options]

Manage notifiers — webhooks called on verdict changes — through the notifier API (request/reply; a
running Lookout node answers). See README, Notifications, for the document.

Commands:
  notify put <id> <file|->  Store a notifier from a JSON or YAML file, or stdin ("-")
  notify get <id>           Show a stored notifier (its URL and headers included)
  notify ls                 List notifiers: routing, retries, reminders, silences (no URLs)
  notify rm <id>            Delete a notifier

Run "lookout notify <command> --help" for the options of a command.

Example:
  lookout notify put ops notifier.json && lookout notify ls
`,
  'notify-put': help(
    'lookout notify put <id> <file|-> [options]',
    `Stores the notifier <id> from a file holding one document, JSON or YAML (stdin with "-"); \${NAME}
in string values is replaced by the environment variable NAME. Validated by the node and stored
whole or not at all: a rejected document prints "lookout: <id>: <code> at <path>: <message>"
(exit code 1). Prints "put notifier <id> revision <n>".`,
    '',
    `  SLACK_URL=https://hooks.slack.com/services/… lookout notify put team-slack slack.yaml`,
  ),
  'notify-get': help('lookout notify get <id> [--json] [options]', 'Prints the stored notifier as {"id", "revision", "notifier"}. Exit code 1 when there is none.', `      --json            compact JSON on one line`, `  lookout notify get ops`),
  'notify-ls': help(
    'lookout notify ls [--json] [options]',
    'Prints every notifier: the verdicts it is told of, its format, attempts, reminders, its silences (or the window open now) and which checks it takes. Never the URL or headers.',
    `      --json            the summaries as one JSON array`,
    `  lookout notify ls`,
  ),
  'notify-rm': help('lookout notify rm <id> [options]', 'Deletes a notifier: its pending deliveries and reminders are dropped.', '', `  lookout notify rm ops`),
  put: help(
    'lookout spec put <file|dir|-> [--id ID] [--wait MS] [options]',
    `Stores check specs and prints "put <id> revision <n>" for each, in order. A file holds one spec
object or a list of them, as JSON (.json) or YAML (.yaml, .yml; several "---" documents allowed);
another extension, and stdin ("-"), is read as JSON if it parses, else as YAML. A directory puts
every *.json, *.yaml and *.yml file in it (not recursive), sorted by name. Every spec needs an
"id", or --id when there is exactly one spec. In string values, \${NAME} is replaced by the
environment variable NAME (an unset variable is an error; $\${NAME} keeps the text literally).
Each spec is validated by the node and stored whole or not at all; a rejected spec prints
"lookout: <id>: <code> at <path>: <message>", the others are still put, and the exit code is 1.
A file problem (unreadable, not JSON/YAML, a spec without "id", an unset variable) stops the
command before anything is put.`,
    `      --id ID           the check id, for a single spec without an "id" field
      --wait MS         first wait up to MS for a node to answer (a cluster that is starting)`,
    `  DEMO_URL=http://127.0.0.1:8080 lookout spec put examples/
  echo '{"kind":"http","target":"https://example.com/"}' | lookout spec put - --id example`,
  ),
  get: help(
    'lookout spec get <id> [--json] [options]',
    `Prints the stored spec as {"id", "revision", "spec"} (indented JSON). Exit code 1 when there is
no spec with that id.`,
    `      --json            compact JSON on one line`,
    `  lookout spec get api`,
  ),
  ls: help(
    'lookout spec ls [--json] [options]',
    `Prints every check id, one per line, in byte order (following the list's pages).`,
    `      --json            one JSON array of ids`,
    `  lookout spec ls | wc -l`,
  ),
  rm: help(
    'lookout spec rm <id> [options]',
    `Deletes a check; it stops at once. Prints "deleted <id>", or "<id> did not exist" (exit code 0
either way).`,
    '',
    `  lookout spec rm api`,
  ),
  schema: help(
    'lookout spec schema [--json]',
    `Prints the CheckSpec JSON Schema (draft 2020-12, $id urn:lookout:check-spec:v1) of this build,
for editors and for checking specs in other languages; needs no NATS. A running cluster answers the
same document on the request subject <prefix>.spec.schema. A spec the schema refuses, the cluster
refuses; what JSON Schema cannot state (timeoutMs < intervalMs, RE2 syntax, the address policy, …)
is still checked by the node.`,
    `      --json            compact JSON on one line`,
    `  lookout spec schema > checkspec.schema.json`,
  ),
  watch: help(
    'lookout watch [id] [--json] [--count N] [options]',
    `Prints every result and every verdict change of one check, or of all checks, as they are
published on <prefix>.result.<id> and <prefix>.status.<id>. Table columns: time (UTC, from the
message), check, node, vantage point, "ok"/"FAIL" ("??" for an inconclusive probe: the node's
own stall, not the target, failed it; the verdict stays as it was) and the verdict (a verdict
change shows from→to), probe latency, failure reason, epoch:seq, message. Runs until SIGINT/SIGTERM (exit
code 0) or until --count events were printed.`,
    `      --json            one JSON payload per line, with a "subject" field added
      --count N         exit after N events`,
    `  lookout watch api
  lookout watch --json | jq 'select(.ok == false)'`,
  ),
  status: help(
    'lookout status [id] [--id-prefix P] [--label k=v[,k=v...]] [--json] [options]',
    `Asks one node (<prefix>.state.get.<id>, <prefix>.state.list) what each check's verdict is and
since when, its last result (time, ok/FAIL, latency, node) and its last failure (reason and
message), from what the cluster stored: the verdict changes (<prefix>_transitions) and the
results still retained (LOOKOUT_RESULTS_PER_CHECK). With an id: that check; without: every check,
or those whose id starts with --id-prefix and whose labels include every --label. Says so on stderr
when nothing matches.`,
    `      --id-prefix P     only checks whose id starts with P
      --label k=v,...   only checks with these labels
      --json            the states as JSON (verdict "up", "degraded", "down", "flapping" or "unknown")`,
    `  lookout status
  lookout status --label team=payments
  lookout status api --json`,
  ),
  history: help(
    'lookout history <id> [--from TIME | --last DURATION] [--to TIME] [--grain fine|coarse|auto] [--json] [options]',
    `Asks one node (<prefix>.state.history.<id>) for a check's uptime over the last 24 hours, 7 days
and 30 days (the share of the time its verdict was known that it was up; times are the NATS
server's), and its verdict changes between --from and --to (ISO-8601; default the last 24 hours).
Changes are kept for LOOKOUT_TRANSITIONS_MAX_AGE_MS (30 days), at most
LOOKOUT_TRANSITIONS_PER_CHECK per check. With --grain, also the probes period by period
between --from and --to: fine (LOOKOUT_ROLLUP_FINE_PERIOD_MS, a minute, kept
LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS: 24 hours), coarse (LOOKOUT_ROLLUP_PERIOD_MS, an hour) or auto
(fine when the range starts within the fine records' reach).`,
    `      --from TIME       first change to list (ISO-8601, e.g. 2026-11-30T00:00:00Z)
      --to TIME         last change to list
      --last DURATION   from this long ago (30m, 1h, 24h, 7d; instead of --from)
      --grain G         print the series at grain fine, coarse or auto
      --json            the reply as it came`,
    `  lookout history api --from 2026-11-29T00:00:00Z
  lookout history api --grain fine --last 1h`,
  ),
  cluster: help(
    'lookout cluster [--json] [options]',
    `Asks one node for the cluster as it sees it (<prefix>.cluster.status): the leader and its term,
the assignment epoch, and each member with its state, incarnation, primary shards, total shard
slots (primary + replica ranks), checks, event-loop lag (LAG: its worst of the last second), clock
and version. CLOCK is the member's wall clock minus
the median of the members' clocks, estimated from heartbeats ("-" before an estimate), marked "!"
past the bound (LOOKOUT_CLOCK_SKEW_WARN_MS of the answering node); the "clock" line names the
members past it. Display only: Lookout's decisions do not depend on clocks agreeing. A member the
leader holds out of the assignment because it flaps (restarts again and again) shows as
"alive (damped)" with no shards until it has been stable for LOOKOUT_CHURN_HOLD_MS. A member whose
event loop lags past LOOKOUT_OVERLOAD_LAG_MS shows as "alive (overloaded)"; the "relieved" line
names the members the leader gives fewer primary shards for that. A member whose probes disagree
with the other nodes' (its own network is in doubt) shows as "alive (quarantined)" and the
"quarantined" line: no shards until it is healthy again; past the bound (never a majority) it shows
as "alive (quarantine refused)" and keeps its shards. A member restarted while its previous life
was known shows as "alive (returning)" while it loads its shards' specs: the next owners run its
checks until it runs.`,
    `      --json            the raw reply`,
    `  lookout cluster -s nats://10.0.0.5:4222`,
  ),
} as const;

// ---------------------------------------------------------------------------------------------
// Tables

/** Left-aligned columns separated by two spaces; `right` lists the right-aligned columns. */
export function table(rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((row) =>
      row
        .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : i === row.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// watch

export type WatchEvent = { kind: 'result'; msg: ResultMessage } | { kind: 'status'; msg: StatusMessage | QuorumStatusMessage };

const WATCH_HEADER = ['TIME', 'CHECK', 'NODE', 'V', 'RESULT', 'LATENCY', 'REASON', 'EPOCH:SEQ', 'MESSAGE'];
// Starting widths; a column grows (for the rows after) when a wider value arrives.
const WATCH_MIN_WIDTHS = [12, 16, 16, 1, 10, 9, 11, 9, 0];
const WATCH_RIGHT = new Set([3, 5, 7]);

/** `14:57:48.001` from an ISO time (UTC), or the text as given if it is not one. */
function timeOfDay(at: unknown): string {
  const s = String(at ?? '');
  const m = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(s);
  return m ? m[1]! : s;
}

function latency(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  return ms >= 100 ? `${Math.round(ms)}ms` : `${ms.toFixed(1)}ms`;
}

/** Streams aligned rows: the header first, then one line per event. */
export class WatchTable {
  private readonly widths = [...WATCH_MIN_WIDTHS];

  header(): string {
    return this.line(WATCH_HEADER);
  }

  row(e: WatchEvent): string {
    const m = e.msg;
    // A result shows the published verdict (its status with the degraded / flapping flags).
    const result = e.kind === 'result' ? `${e.msg.ok ? 'ok' : e.msg.reason === 'inconclusive' ? '??' : 'FAIL'} ${resultVerdictOf(e.msg)}` : `${e.msg.from}→${e.msg.to}`;
    return this.line([
      timeOfDay(m.at),
      String(m.checkId ?? '?'),
      String(m.node ?? '?'),
      // A combined verdict (replicas > 1) has no vantage: its quorum counts instead ("q 2/3 up"; "held" when not formed).
      'quorum' in m && m.quorum ? `q ${m.quorum.up}/${m.quorum.replicas} up${m.quorum.formed ? '' : ' held'}` : String((m as { vantage?: number }).vantage ?? 0),
      result,
      e.kind === 'result' ? latency(e.msg.latencyMs) : '-',
      m.reason ?? '-',
      `${m.epoch ?? '?'}:${m.seq ?? '?'}`,
      m.message ?? '',
    ]);
  }

  private line(cells: string[]): string {
    return cells
      .map((c, i) => {
        this.widths[i] = Math.max(this.widths[i]!, c.length);
        if (i === cells.length - 1) return c;
        return WATCH_RIGHT.has(i) ? c.padStart(this.widths[i]!) : c.padEnd(this.widths[i]!);
      })
      .join('  ')
      .trimEnd();
  }
}

// ---------------------------------------------------------------------------------------------
// cluster

/** The `<prefix>.cluster.status` reply (actors/cluster-status.ts), as far as it is printed. */
export interface ClusterStatusReply {
  answeredBy?: string;
  leader?: { node: string; term: number } | null;
  term?: number | null;
  epoch?: number | null;
  assignment?: { epoch: number; term: number; leader: string; at: string; members: string[]; damped?: string[]; relieved?: string[]; quarantined?: string[]; quarantineRefused?: string[] } | null;
  clock?: { boundMs: number } | null;
  /** The fleet's checks by verdict (older nodes do not say). */
  verdicts?: { counts: Partial<Record<string, number>>; total: number; reported: string[]; unreported: string[] };
  members?: {
    node: string;
    state: string;
    incarnation: number;
    version: string;
    shards?: { primary: number; total: number };
    checks: number;
    clockOffsetMs?: number | null;
    clockSkewMs?: number | null;
    /** Held out of the map by the leader because it flaps (older nodes do not say). */
    damped?: boolean;
    /** It says it is overloaded; its worst lag of the last second (older nodes do not say). */
    overloaded?: boolean;
    lagMs?: number | null;
    /** The leader gives it fewer primary shards because it was overloaded. */
    relieved?: boolean;
    /** It says it quarantined itself (its probes disagree with the other nodes'); older nodes do not say. */
    quarantined?: boolean;
    /** It quarantined itself past the bound: the leader keeps its shards with it. */
    quarantineRefused?: boolean;
    /** Its first map's slots are not all running yet; older nodes do not say. */
    starting?: boolean;
    /** A restart still loading its specs: the next owners run its slots until it runs. */
    returning?: boolean;
  }[];
}

/** `+12ms`, `-30.0s`; `-` for no estimate (too few heartbeats yet, or a node without sentAt). */
export function formatSkew(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  const abs = Math.abs(ms);
  if (abs >= 1000) return `${ms < 0 ? '-' : '+'}${(abs / 1000).toFixed(1)}s`;
  const whole = Math.round(ms);
  return whole < 0 ? `${whole}ms` : `+${whole}ms`;
}

type Members = NonNullable<ClusterStatusReply['members']>;

const pastBound = (m: Members[number], boundMs: number | undefined) => boundMs !== undefined && typeof m.clockSkewMs === 'number' && Math.abs(m.clockSkewMs) > boundMs;

/** The `clock` line: who is past the bound, or that none is. */
function clockLine(members: Members, boundMs: number | undefined): string {
  if (boundMs === undefined || !members.some((m) => typeof m.clockSkewMs === 'number')) return 'no estimate yet';
  const off = members.filter((m) => pastBound(m, boundMs));
  const bound = `bound ±${boundMs} ms from the members' median`;
  if (off.length === 0) return `in step (${bound})`;
  return `${off.map((m) => `${m.node} off by ${formatSkew(m.clockSkewMs)}`).join(', ')} (${bound})`;
}

/** A member's state with what qualifies it: `alive (starting)`, `alive (damped)`, `alive (overloaded)`, `alive (quarantined)`. */
function stateOf(m: Members[number]): string {
  const quarantine = m.quarantined ? [m.quarantineRefused ? 'quarantine refused' : 'quarantined'] : [];
  const notes = [...(m.returning ? ['returning'] : m.starting ? ['starting'] : []), ...(m.damped ? ['damped'] : []), ...(m.overloaded ? ['overloaded'] : []), ...quarantine];
  return notes.length ? `${m.state} (${notes.join(', ')})` : m.state;
}

/** `12ms`, `1.3s`; `-` when the member does not say. */
export function formatLag(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}

/** `2 down · 0 degraded · 0 flapping · 5 up · 0 unknown (7 checks)`, naming the live members that did not report. */
export function verdictLine(v: NonNullable<ClusterStatusReply['verdicts']>): string {
  const counts = COUNTED_VERDICTS.map((k) => `${v.counts[k] ?? 0} ${k}`).join(' · ');
  const missing = v.unreported.length ? `; not reported by ${v.unreported.join(', ')}` : '';
  return `${counts} (${v.total} checks${missing})`;
}

export function formatCluster(r: ClusterStatusReply): string {
  const leader = r.leader ? `${r.leader.node} (term ${r.leader.term})` : 'none';
  const a = r.assignment;
  const epoch = a ? `${a.epoch} (issued by ${a.leader} in term ${a.term} at ${a.at})` : r.epoch != null ? String(r.epoch) : 'none (no assignment yet)';
  const members = r.members ?? [];
  const boundMs = r.clock?.boundMs;
  const clock = (m: Members[number]) => `${formatSkew(m.clockSkewMs)}${pastBound(m, boundMs) ? ' !' : ''}`;
  const rows = [
    ['NODE', 'STATE', 'INCARNATION', 'PRIMARY', 'SHARDS', 'CHECKS', 'LAG', 'CLOCK', 'VERSION'],
    ...members.map((m) => [m.node, stateOf(m), String(m.incarnation), String(m.shards?.primary ?? 0), String(m.shards?.total ?? 0), String(m.checks), formatLag(m.lagMs), clock(m), m.version]),
  ];
  const lines = [
    `leader       ${leader}`,
    `epoch        ${epoch}`,
    `answered by  ${r.answeredBy ?? '?'}`,
    `members      ${members.length}`,
    `clock        ${clockLine(members, boundMs)}`,
    ...(r.verdicts ? [`checks       ${verdictLine(r.verdicts)}`] : []),
    ...(a?.damped?.length ? [`damped       ${a.damped.join(', ')} (flapping: no shards until stable)`] : []),
    ...(members.some((m) => m.overloaded) ? [`overloaded   ${members.filter((m) => m.overloaded).map((m) => m.node).join(', ')} (event loop lagging: timeouts it causes are inconclusive)`] : []),
    ...(a?.relieved?.length ? [`relieved     ${a.relieved.join(', ')} (fewer primary shards until no longer overloaded)`] : []),
    ...(a?.quarantined?.length ? [`quarantined  ${a.quarantined.join(', ')} (its probes disagree with the others': no shards until healthy again)`] : []),
    ...(a?.quarantineRefused?.length ? [`refused      ${a.quarantineRefused.join(', ')} (quarantined itself past the bound: keeps its shards)`] : []),
    '',
    table(rows, new Set([2, 3, 4, 5, 6, 7])),
  ];
  return `${lines.join('\n')}\n`;
}
