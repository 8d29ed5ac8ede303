// `lookout watch [id]`: live results and verdict changes, as a table or one JSON object per line,
// until Ctrl-C, --count messages, or a connection lost for good (exit code 1). It starts with the
// last known state of what it watches (the state API, cli/state.ts), and says when nothing matches.

import type { Msg } from '@nats-io/transport-node';
import { checkIdArg, intOpt } from './client-args';
import type { Ctx } from './client-context';
import { describeNatsError } from './client-nats';
import { WatchTable, type WatchEvent } from './format';
import { lastKnown } from './state';

/**
 * Live messages kept while the last known state is read (they print after it, in order); past this
 * many the rest are dropped and counted (a wildcard watch on a large fleet during a slow state read).
 */
export const MAX_HELD_WHILE_STARTING = 10_000;

export async function watch(ctx: Ctx): Promise<number> {
  const id = ctx.args.positionals[0] === undefined ? undefined : checkIdArg(ctx.args.positionals[0]);
  const count = intOpt(ctx.args, 'count', 1, Number.MAX_SAFE_INTEGER);
  const json = ctx.args.opts.has('json');
  const nc = await ctx.nc();
  const table = new WatchTable();
  let seen = 0;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  // Until the last known state and the header are out, live messages wait (in order, bounded):
  // under load the state read took longer than the first live result, which printed above it.
  let held: { subject: string; kind: WatchEvent['kind']; msg: any }[] | null = [];
  let dropped = 0;
  const print = (subject: string, kind: WatchEvent['kind'], msg: any) => {
    if (seen === count) return;
    seen++;
    ctx.out(json ? JSON.stringify({ subject, ...msg }) : table.row({ kind, msg } as WatchEvent));
    if (seen === count) finish(0);
  };
  const onEvent = (kind: WatchEvent['kind']) => (err: Error | null, m: Msg) => {
    if (err || seen === count) return;
    let msg: any;
    try {
      msg = m.json();
    } catch {
      return; // not a Lookout payload
    }
    if (msg === null || typeof msg !== 'object') return;
    if (held === null) print(m.subject, kind, msg);
    else if (held.length < MAX_HELD_WHILE_STARTING) held.push({ subject: m.subject, kind, msg });
    else dropped++;
  };
  const subs = [
    nc.subscribe(id ? ctx.s.result(id) : ctx.s.resultWildcard(), { callback: onEvent('result') }),
    nc.subscribe(id ? ctx.s.status(id) : ctx.s.statusWildcard(), { callback: onEvent('status') }),
  ];
  await nc.flush();
  await lastKnown(ctx, id, json);
  if (!json) ctx.out(table.header());
  const waiting = held;
  held = null;
  if (dropped > 0) ctx.err(`${dropped} live messages dropped while the last known state was read`);
  for (const e of waiting) print(e.subject, e.kind, e.msg);
  const onSignal = () => finish(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const onPipeError = () => finish(0); // e.g. `lookout watch | head`
  ctx.io.stdout.on('error', onPipeError);
  let ended = false;
  void nc.closed().then((err) => {
    if (!ended) finish(reportLost(ctx, err));
  });
  void (async () => {
    for await (const st of nc.status()) {
      if (st.type === 'disconnect') ctx.err('disconnected from NATS, reconnecting');
      else if (st.type === 'reconnect') ctx.err(`reconnected to NATS at ${st.server}`);
    }
  })();
  try {
    return await done;
  } finally {
    ended = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    ctx.io.stdout.off('error', onPipeError);
    for (const sub of subs) sub.unsubscribe();
  }
}

function reportLost(ctx: Ctx, err: Error | void): number {
  ctx.err(`lost the connection to NATS at ${ctx.settings.natsUrl}${err ? `: ${describeNatsError(err)}` : ''}`);
  return 1;
}
