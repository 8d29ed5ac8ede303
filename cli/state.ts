// `lookout status [id] [--id-prefix P] [--label k=v,...]` and `lookout history <id> [--from T|--last D] [--to T] [--grain G]`:
// what a check's verdict is, since when, its last result and last failure, its uptime and verdict
// changes, as any node answers them from what the cluster stored (<prefix>.state.*, runtime/
// state-api.ts). A table by default; --json prints the states (or the history reply) as JSON, with
// the verdict as "up" / "degraded" / "down" / "flapping" / "unknown" (protocol/published-verdict.ts).

import type { CheckState } from '../protocol/check-state';
import { SeriesGrain } from '../protocol/state-query';
import { checkIdArg, str, UsageError, type Args } from './client-args';
import type { Ctx } from './client-context';
import { replyError, request } from './client-nats';
import { CommandError } from './spec-files';
import { formatHistory, formatState, formatStates, type HistoryReply } from './state-format';

/** Most states one `lookout status` prints (pages of the state API until then). */
export const STATUS_MAX_CHECKS = 100_000;

/** `--label team=api,tier=1` as a label filter. */
export function labelFilter(args: Args): Record<string, string> {
  const raw = str(args, 'label');
  if (raw === undefined) return {};
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label: expected key=value[,key=value...], got ${JSON.stringify(part)}`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Every state that matches, page by page (the state API bounds each page). */
export async function listStates(ctx: Ctx, prefix: string | undefined, labels: Record<string, string>): Promise<CheckState[]> {
  const nc = await ctx.nc();
  const states: CheckState[] = [];
  let after: string | null = null;
  do {
    const body = JSON.stringify({ ...(prefix ? { prefix } : {}), ...(Object.keys(labels).length ? { labels } : {}), ...(after ? { after } : {}), limit: 500 });
    const { reply } = await request(nc, ctx.s.stateList(), body, ctx.settings.timeoutMs);
    if (reply.ok === false) throw new CommandError(`state list: ${replyError(reply)}`);
    states.push(...(reply.states as CheckState[]));
    after = reply.next as string | null;
  } while (after !== null && states.length < STATUS_MAX_CHECKS);
  return states;
}

export async function status(ctx: Ctx): Promise<number> {
  const json = ctx.args.opts.has('json');
  const idArg = ctx.args.positionals[0];
  if (idArg !== undefined) {
    const id = checkIdArg(idArg);
    if (ctx.args.opts.has('id-prefix') || ctx.args.opts.has('label')) throw new UsageError('give a check id or --id-prefix/--label, not both');
    const { reply } = await request(await ctx.nc(), ctx.s.stateGet(id), '', ctx.settings.timeoutMs);
    if (reply.ok === false) throw new CommandError(`status ${id}: ${replyError(reply)}`);
    if (json) ctx.out(JSON.stringify(reply.state));
    else ctx.io.stdout.write(formatState(reply.state as CheckState));
    return 0;
  }
  const states = await listStates(ctx, str(ctx.args, 'id-prefix'), labelFilter(ctx.args));
  if (json) ctx.out(JSON.stringify(states));
  else if (states.length === 0) ctx.err('no check matches');
  else ctx.io.stdout.write(formatStates(states));
  return 0;
}

/**
 * What `watch` prints before the live messages: the last known state of check `id` (or of every
 * check), or on stderr that nothing matches. A cluster without the state API (an older version)
 * gets a note on stderr; the watch goes on.
 */
export async function lastKnown(ctx: Ctx, id: string | undefined, json: boolean): Promise<void> {
  let states: CheckState[];
  try {
    if (id === undefined) states = await listStates(ctx, undefined, {});
    else {
      const { reply } = await request(await ctx.nc(), ctx.s.stateGet(id), '', ctx.settings.timeoutMs);
      if (reply.ok === false && reply.error?.code !== 'not_found') throw new CommandError(replyError(reply));
      states = reply.ok ? [reply.state as CheckState] : [];
    }
  } catch (err) {
    ctx.err(`no last known state (${(err as Error).message}); watching live messages only`);
    return;
  }
  if (states.length === 0) ctx.err(id === undefined ? 'no check matches (watching for new ones)' : `no check with id ${id} (watching for it)`);
  else if (json) for (const st of states) ctx.out(JSON.stringify({ subject: ctx.s.stateGet(st.checkId), ...st }));
  else ctx.io.stdout.write(`${formatStates(states)}\n`);
}

const GRAINS: readonly string[] = Object.values(SeriesGrain);
/** Longest `--last`: as far back as anything is kept (the hourly rollups, 31 days). */
export const LAST_MAX_MS = 31 * 86_400_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--last 90m` / `1h` / `24h` / `7d` in ms (at most LAST_MAX_MS). */
export function parseLast(raw: string): number {
  const m = /^([1-9]\d{0,6})([mhd])$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms <= LAST_MAX_MS)) throw new UsageError(`--last: expected a duration such as 30m, 1h, 24h or 7d (at most 31d), got ${JSON.stringify(raw.slice(0, 32))}`);
  return ms;
}

export async function history(ctx: Ctx): Promise<number> {
  const id = checkIdArg(ctx.args.positionals[0]!);
  const body: Record<string, string> = {};
  for (const k of ['from', 'to', 'grain'] as const) {
    const v = str(ctx.args, k);
    if (v !== undefined) body[k] = v;
  }
  if (body.grain !== undefined && !GRAINS.includes(body.grain)) throw new UsageError(`--grain: expected one of ${GRAINS.join(', ')}, got ${JSON.stringify(body.grain)}`);
  const last = str(ctx.args, 'last');
  if (last !== undefined) {
    if (body.from !== undefined) throw new UsageError('give --from or --last, not both');
    body.from = new Date(Date.now() - parseLast(last)).toISOString(); // this machine's clock: a range, not a decision
  }
  const { raw, reply } = await request(await ctx.nc(), ctx.s.stateHistory(id), JSON.stringify(body), ctx.settings.timeoutMs);
  if (reply.ok === false) throw new CommandError(`history ${id}: ${replyError(reply)}`);
  if (ctx.args.opts.has('json')) ctx.out(raw);
  else ctx.io.stdout.write(formatHistory(reply as HistoryReply, body.grain !== undefined));
  return 0;
}
