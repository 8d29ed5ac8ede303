// `lookout spec put|get|ls|rm`: the spec API (README "Subjects") by request/reply. A put checks
// every file first (a file problem puts nothing), then puts the specs one by one and reports each.

import type { NatsConnection } from '@nats-io/transport-node';
import { specJsonSchema } from '../checks/spec-json-schema';
import { isValidCheckId } from '../runtime/subjects';
import { checkIdArg, intOpt, str, UsageError } from './client-args';
import type { Ctx } from './client-context';
import { replyError, request } from './client-nats';
import { CommandError, loadSpecDocs, substituteEnv } from './spec-files';

/** --wait: a fresh cluster (compose, dev) answers the spec API only once a node is up. */
async function waitForSpecApi(nc: NatsConnection, ctx: Ctx, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const answered = await nc.request(ctx.s.specList(), '', { timeout: 1000 }).then(
      () => true,
      () => false,
    );
    if (answered) return;
    if (Date.now() >= deadline) throw new CommandError(`no Lookout node answered on ${ctx.s.specList()} within ${waitMs} ms — is a node running?`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function specPut(ctx: Ctx): Promise<number> {
  const { args, io } = ctx;
  const flagId = str(args, 'id');
  if (flagId !== undefined) checkIdArg(flagId);
  const docs = await loadSpecDocs(args.positionals[0]!, io.stdin);
  if (docs.length === 0) throw new CommandError(`no specs found in ${args.positionals[0] === '-' ? '<stdin>' : args.positionals[0]}`);
  if (flagId !== undefined && docs.length !== 1) throw new UsageError(`--id needs exactly one spec, found ${docs.length}`);
  // Everything local is checked before the first put: a file problem puts nothing.
  const specs = docs.map((d) => {
    if (d.value === null || typeof d.value !== 'object' || Array.isArray(d.value)) throw new CommandError(`${d.source}: a spec must be an object`);
    const spec = substituteEnv(d.value, io.env, d.source) as Record<string, unknown>;
    const id = flagId ?? spec.id;
    if (id === undefined) throw new CommandError(`${d.source}: the spec has no "id" (add one, or use --id for a single spec)`);
    if (typeof id !== 'string') throw new CommandError(`${d.source}: "id" must be a string, got ${JSON.stringify(id)}`);
    return { id, spec };
  });
  const nc = await ctx.nc();
  const waitMs = intOpt(args, 'wait', 0, 3_600_000);
  if (waitMs !== undefined) await waitForSpecApi(nc, ctx, waitMs);
  let failed = 0;
  for (const { id, spec } of specs) {
    if (!isValidCheckId(id)) {
      ctx.err(`${id}: invalid_id at id: check id must match ^[A-Za-z0-9_-]{1,128}$`);
      failed++;
      continue;
    }
    const { reply } = await request(nc, ctx.s.specPut(id), JSON.stringify(spec), ctx.settings.timeoutMs);
    if (reply.ok) {
      ctx.out(`put ${id} revision ${reply.revision}`);
      for (const w of reply.warnings ?? []) ctx.err(`${id}: warning ${w.code} at ${w.path}: ${w.message}`);
    }
    else {
      ctx.err(`${id}: ${replyError(reply)}`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}

export async function specGet(ctx: Ctx): Promise<number> {
  const id = checkIdArg(ctx.args.positionals[0]!);
  const nc = await ctx.nc();
  const { reply } = await request(nc, ctx.s.specGet(id), '', ctx.settings.timeoutMs);
  if (!reply.ok) throw new CommandError(reply.error?.code === 'not_found' ? `no spec with id ${id}` : `${id}: ${replyError(reply)}`);
  const shown = { id: reply.id, revision: reply.revision, spec: reply.spec };
  ctx.out(ctx.args.opts.has('json') ? JSON.stringify(shown) : JSON.stringify(shown, null, 2));
  return 0;
}

export async function specLs(ctx: Ctx): Promise<number> {
  const limit = intOpt(ctx.args, 'page-size', 1, 10_000) ?? 1000;
  const nc = await ctx.nc();
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const body: { after?: string; limit: number } = after === null ? { limit } : { after, limit };
    const { reply } = await request(nc, ctx.s.specList(), JSON.stringify(body), ctx.settings.timeoutMs);
    if (!reply.ok) throw new CommandError(`list: ${replyError(reply)}`);
    ids.push(...(reply.ids as string[]));
    const next = reply.next as string | null;
    if (next === null || next === undefined) break;
    if (next === after) throw new CommandError(`list: the page after ${JSON.stringify(after)} did not advance`);
    after = next;
  }
  if (ctx.args.opts.has('json')) ctx.out(JSON.stringify(ids));
  else for (const id of ids) ctx.out(id);
  return 0;
}

/** The CheckSpec JSON Schema, from this build (no node needed): the document lookout.spec.schema answers with. */
export async function specSchema(ctx: Ctx): Promise<number> {
  ctx.out(ctx.args.opts.has('json') ? JSON.stringify(specJsonSchema()) : JSON.stringify(specJsonSchema(), null, 2));
  return 0;
}

export async function specRm(ctx: Ctx): Promise<number> {
  const id = checkIdArg(ctx.args.positionals[0]!);
  const nc = await ctx.nc();
  const { reply } = await request(nc, ctx.s.specDelete(id), '', ctx.settings.timeoutMs);
  if (!reply.ok) throw new CommandError(`${id}: ${replyError(reply)}`);
  ctx.out(reply.existed === false ? `${id} did not exist` : `deleted ${id}`);
  return 0;
}
