// `lookout notify put|get|ls|rm`: the notifier API (README "Notifications") by request/reply. A
// notifier file is one document, JSON or YAML (the spec files' reader: `${NAME}` in string values is
// taken from the environment, so a Slack URL can stay out of the file); its id is the command's.

import { UsageError } from './client-args';
import type { Ctx } from './client-context';
import { replyError, request } from './client-nats';
import { CommandError, loadSpecDocs, substituteEnv } from './spec-files';
import { notifierTable } from './notify-format';

const NOTIFIER_ID = /^[A-Za-z0-9_-]{1,64}$/;

function notifierIdArg(id: string): string {
  if (!NOTIFIER_ID.test(id)) throw new UsageError(`invalid notifier id ${JSON.stringify(id)}: ids match ${NOTIFIER_ID.source}`);
  return id;
}

export async function notifyPut(ctx: Ctx): Promise<number> {
  const [rawId, file] = ctx.args.positionals as [string, string];
  const id = notifierIdArg(rawId);
  const docs = await loadSpecDocs(file, ctx.io.stdin);
  if (docs.length !== 1) throw new CommandError(`${file}: a notifier file holds exactly one document, found ${docs.length}`);
  const d = docs[0]!;
  if (d.value === null || typeof d.value !== 'object' || Array.isArray(d.value)) throw new CommandError(`${d.source}: a notifier must be an object`);
  const doc = substituteEnv(d.value, ctx.io.env, d.source);
  const { reply } = await request(await ctx.nc(), ctx.s.notifyPut(id), JSON.stringify(doc), ctx.settings.timeoutMs);
  if (!reply.ok) throw new CommandError(`${id}: ${replyError(reply)}`);
  ctx.out(`put notifier ${id} revision ${reply.revision}`);
  return 0;
}

export async function notifyGet(ctx: Ctx): Promise<number> {
  const id = notifierIdArg(ctx.args.positionals[0]!);
  const { reply } = await request(await ctx.nc(), ctx.s.notifyGet(id), '', ctx.settings.timeoutMs);
  if (!reply.ok) throw new CommandError(reply.error?.code === 'not_found' ? `no notifier with id ${id}` : `${id}: ${replyError(reply)}`);
  const shown = { id: reply.id, revision: reply.revision, notifier: reply.notifier };
  ctx.out(ctx.args.opts.has('json') ? JSON.stringify(shown) : JSON.stringify(shown, null, 2));
  return 0;
}

export async function notifyLs(ctx: Ctx): Promise<number> {
  const nc = await ctx.nc();
  const all: any[] = [];
  let after: string | null = null;
  for (;;) {
    const body: { after?: string; limit: number } = after === null ? { limit: 200 } : { after, limit: 200 };
    const { reply } = await request(nc, ctx.s.notifyList(), JSON.stringify(body), ctx.settings.timeoutMs);
    if (!reply.ok) throw new CommandError(`list: ${replyError(reply)}`);
    all.push(...(reply.notifiers as any[]));
    if (reply.next === null || reply.next === undefined || reply.next === after) break;
    after = reply.next as string;
  }
  if (ctx.args.opts.has('json')) ctx.out(JSON.stringify(all));
  else if (all.length === 0) ctx.err('no notifiers (lookout notify put <id> <file>)');
  else for (const line of notifierTable(all)) ctx.out(line);
  return 0;
}

export async function notifyRm(ctx: Ctx): Promise<number> {
  const id = notifierIdArg(ctx.args.positionals[0]!);
  const { reply } = await request(await ctx.nc(), ctx.s.notifyDelete(id), '', ctx.settings.timeoutMs);
  if (!reply.ok) throw new CommandError(`${id}: ${replyError(reply)}`);
  ctx.out(reply.existed === false ? `notifier ${id} did not exist` : `deleted notifier ${id}`);
  return 0;
}

