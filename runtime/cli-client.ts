// Client commands of the `lookout` CLI: `spec put|get|ls|rm`, `watch`, `cluster`. They talk to a
// running cluster over the public NATS API only (README "Subjects"), connect like the node does
// (NATS_* settings, runtime/nats.ts) but give up quickly, and report every error as one line on
// stderr: exit code 2 for usage and settings, 1 for everything else. Output formats: cli-format.ts.

import { createConnection } from 'node:net';
import { connect, errors, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { SETTINGS } from './config';
import { HELP, WatchTable, formatCluster, type ClusterStatusReply, type WatchEvent } from './cli-format';
import { connectionOptions, type NatsAuthConfig } from './nats';
import { CommandError, loadSpecDocs, substituteEnv } from './spec-files';
import { isValidCheckId, subjects, type Subjects } from './subjects';

export interface ClientIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/** A usage or settings error: exit code 2. (A CommandError is everything else: exit code 1.) */
class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// Arguments

interface OptDef {
  long: string;
  short?: string;
  /** Takes a value (`--x v` or `--x=v`); otherwise a switch. */
  value: boolean;
}

const COMMON_OPTS: OptDef[] = [
  { long: 'server', short: 's', value: true },
  ...['creds', 'user', 'password', 'token', 'nkey', 'tlsca', 'tlscert', 'tlskey', 'prefix', 'timeout'].map((long) => ({ long, value: true })),
  { long: 'help', short: 'h', value: false },
];
const JSON_OPT: OptDef = { long: 'json', value: false };

type Sub = 'put' | 'get' | 'ls' | 'rm' | 'watch' | 'cluster';
const COMMAND_OPTS: Record<Sub, OptDef[]> = {
  put: [{ long: 'id', value: true }, { long: 'wait', value: true }],
  get: [JSON_OPT],
  // --page-size is not in the help: it exists to exercise paging without thousands of specs.
  ls: [JSON_OPT, { long: 'page-size', value: true }],
  rm: [],
  watch: [JSON_OPT, { long: 'count', value: true }],
  cluster: [JSON_OPT],
};
const POSITIONALS: Record<Sub, [min: number, max: number, name: string]> = {
  put: [1, 1, '<file|dir|->'],
  get: [1, 1, '<id>'],
  ls: [0, 0, ''],
  rm: [1, 1, '<id>'],
  watch: [0, 1, '[id]'],
  cluster: [0, 0, ''],
};

interface Args {
  opts: Map<string, string | true>;
  positionals: string[];
}

function parseArgs(argv: readonly string[], sub: Sub, command: string): Args {
  const defs = [...COMMON_OPTS, ...COMMAND_OPTS[sub]];
  const opts = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(0, eq < 0 ? undefined : eq);
    const def = defs.find((d) => name === `--${d.long}` || (d.short !== undefined && name === `-${d.short}`));
    if (!def) throw new UsageError(`unknown flag ${name} for "${command}" (see lookout ${command} --help)`);
    if (!def.value) {
      if (eq >= 0) throw new UsageError(`flag --${def.long} takes no value`);
      opts.set(def.long, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`flag ${name} needs a value`);
    opts.set(def.long, value);
  }
  const [min, max, name] = POSITIONALS[sub];
  if (positionals.length < min) throw new UsageError(`"${command}" needs ${name} (see lookout ${command} --help)`);
  if (positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])} for "${command}" (see lookout ${command} --help)`);
  return { opts, positionals };
}

function str(args: Args, long: string): string | undefined {
  const v = args.opts.get(long);
  return typeof v === 'string' ? v : undefined;
}

function intOpt(args: Args, long: string, min: number, max: number): number | undefined {
  const raw = str(args, long);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${long}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function checkIdArg(id: string): string {
  if (!isValidCheckId(id)) throw new UsageError(`invalid check id ${JSON.stringify(id)}: ids match ^[A-Za-z0-9_-]{1,128}$`);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Settings and connection

interface ClientSettings extends NatsAuthConfig {
  prefix: string;
  timeoutMs: number;
}

/** Flag → setting. Only the settings a client uses are read, so node-only LOOKOUT_* values never matter. */
const SETTING_FLAGS = {
  server: 'natsUrl',
  creds: 'natsCreds',
  user: 'natsUser',
  password: 'natsPassword',
  token: 'natsToken',
  nkey: 'natsNkey',
  tlsca: 'natsCa',
  tlscert: 'natsCert',
  tlskey: 'natsKey',
  prefix: 'prefix',
} as const satisfies Record<string, keyof typeof SETTINGS>;

function clientSettings(args: Args, env: NodeJS.ProcessEnv): ClientSettings {
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(SETTING_FLAGS)) {
    const def = SETTINGS[key];
    const fromFlag = str(args, flag);
    const raw = fromFlag ?? env[def.env];
    if (raw === undefined) {
      out[key] = def.default;
      continue;
    }
    try {
      out[key] = def.parse(raw);
    } catch (err) {
      throw new UsageError(`${fromFlag !== undefined ? `--${flag}` : def.env}: ${(err as Error).message}, got ${JSON.stringify(raw)}`);
    }
  }
  if ((out.natsUser === undefined) !== (out.natsPassword === undefined)) throw new UsageError('NATS_USER and NATS_PASSWORD (--user and --password) must be set together');
  out.timeoutMs = intOpt(args, 'timeout', 1, 3_600_000) ?? 5000;
  return out as unknown as ClientSettings;
}

/** Connect once (each server tried once, no waiting for a server to appear); `reconnect` keeps a watch alive for ~30 s of outage. */
async function connectClient(s: ClientSettings, reconnect: boolean): Promise<NatsConnection> {
  let opts;
  try {
    opts = connectionOptions(s, 'lookout-cli');
  } catch (err) {
    throw new UsageError(`cannot read NATS credentials: ${(err as Error).message}`);
  }
  Object.assign(opts, { waitOnFirstConnect: false, maxReconnectAttempts: reconnect ? 60 : 0, reconnect, timeout: s.timeoutMs });
  await anyReachable(opts.servers as string[], s);
  try {
    return await connect(opts);
  } catch (err) {
    throw new CommandError(`cannot connect to NATS at ${s.natsUrl}: ${describeNatsError(err)}`);
  }
}

/**
 * Fail fast when no server greets us (NATS sends INFO on connect) within the timeout. nats.js never
 * destroys a dial still pending when its connect timeout fires, and that socket would keep this
 * process alive until the OS gives up on it (minutes, for a host that drops packets).
 */
async function anyReachable(servers: string[], s: ClientSettings): Promise<void> {
  const tryOne = (server: string) =>
    new Promise<void>((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(/^[a-z]+:\/\//.test(server) ? server : `nats://${server}`);
      } catch {
        return resolve(); // nats.js reports what it makes of it
      }
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const sock = createConnection({ host, port: Number(url.port || 4222) });
      const done = (err?: Error) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`no answer within ${s.timeoutMs} ms`)), s.timeoutMs);
      sock.once('data', (d: Buffer) => done(d.subarray(0, 5).toString() === 'INFO ' ? undefined : new Error('the server did not greet like a NATS server')));
      sock.once('error', (err) => done(err));
      sock.once('close', () => done(new Error('connection closed before the server greeted')));
    });
  try {
    await Promise.any(servers.map(tryOne));
  } catch (err) {
    const first = (err as AggregateError).errors?.[0] ?? err;
    throw new CommandError(`cannot connect to NATS at ${s.natsUrl}: ${describeNatsError(first)}`);
  }
}

function describeNatsError(err: unknown): string {
  const e = err as Error & { code?: string; cause?: unknown };
  const cause = e?.cause as (Error & { code?: string }) | undefined;
  const code = e?.code ?? cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (e instanceof errors.TimeoutError) return 'timed out';
  return (e?.message || cause?.message || String(err)).replace(/\s+/g, ' ');
}

/** JSON request/reply; transport failures become one-line CommandErrors. */
async function request(nc: NatsConnection, subject: string, body: string, timeoutMs: number): Promise<{ raw: string; reply: any }> {
  let m: Msg;
  try {
    m = await nc.request(subject, body, { timeout: timeoutMs });
  } catch (err) {
    if (err instanceof errors.NoRespondersError || (err instanceof errors.RequestError && err.isNoResponders())) {
      throw new CommandError(`no Lookout node answered on ${subject} — is a node running?`);
    }
    if (err instanceof errors.TimeoutError) throw new CommandError(`no reply on ${subject} within ${timeoutMs} ms`);
    throw new CommandError(`request on ${subject} failed: ${describeNatsError(err)}`);
  }
  const raw = m.string();
  try {
    return { raw, reply: JSON.parse(raw) };
  } catch {
    throw new CommandError(`the reply on ${subject} is not JSON: ${raw.slice(0, 200)}`);
  }
}

function replyError(reply: any): string {
  const e = reply?.error ?? {};
  return `${e.code ?? 'error'}${e.path ? ` at ${e.path}` : ''}: ${e.message ?? JSON.stringify(reply)}`;
}

// ---------------------------------------------------------------------------------------------
// Commands

interface Ctx {
  io: ClientIo;
  args: Args;
  settings: ClientSettings;
  s: Subjects;
  /** Connects on first use, so local mistakes (a bad file) are reported before NATS is touched. */
  nc(): Promise<NatsConnection>;
  out(line: string): void;
  err(line: string): void;
}

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

async function specPut(ctx: Ctx): Promise<number> {
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
    if (reply.ok) ctx.out(`put ${id} revision ${reply.revision}`);
    else {
      ctx.err(`${id}: ${replyError(reply)}`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}

async function specGet(ctx: Ctx): Promise<number> {
  const id = checkIdArg(ctx.args.positionals[0]!);
  const nc = await ctx.nc();
  const { reply } = await request(nc, ctx.s.specGet(id), '', ctx.settings.timeoutMs);
  if (!reply.ok) throw new CommandError(reply.error?.code === 'not_found' ? `no spec with id ${id}` : `${id}: ${replyError(reply)}`);
  const shown = { id: reply.id, revision: reply.revision, spec: reply.spec };
  ctx.out(ctx.args.opts.has('json') ? JSON.stringify(shown) : JSON.stringify(shown, null, 2));
  return 0;
}

async function specLs(ctx: Ctx): Promise<number> {
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

async function specRm(ctx: Ctx): Promise<number> {
  const id = checkIdArg(ctx.args.positionals[0]!);
  const nc = await ctx.nc();
  const { reply } = await request(nc, ctx.s.specDelete(id), '', ctx.settings.timeoutMs);
  if (!reply.ok) throw new CommandError(`${id}: ${replyError(reply)}`);
  ctx.out(reply.existed === false ? `${id} did not exist` : `deleted ${id}`);
  return 0;
}

async function cluster(ctx: Ctx): Promise<number> {
  const nc = await ctx.nc();
  const { raw, reply } = await request(nc, ctx.s.clusterStatus(), '', ctx.settings.timeoutMs);
  if (reply.ok === false) throw new CommandError(`cluster status: ${replyError(reply)}`);
  if (ctx.args.opts.has('json')) ctx.out(raw);
  else ctx.io.stdout.write(formatCluster(reply as ClusterStatusReply));
  return 0;
}

async function watch(ctx: Ctx): Promise<number> {
  const id = ctx.args.positionals[0] === undefined ? undefined : checkIdArg(ctx.args.positionals[0]);
  const count = intOpt(ctx.args, 'count', 1, Number.MAX_SAFE_INTEGER);
  const json = ctx.args.opts.has('json');
  const nc = await ctx.nc();
  const table = new WatchTable();
  let seen = 0;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  const onEvent = (kind: WatchEvent['kind']) => (err: Error | null, m: Msg) => {
    if (err || seen === count) return;
    let msg: any;
    try {
      msg = m.json();
    } catch {
      return; // not a Lookout payload
    }
    if (msg === null || typeof msg !== 'object') return;
    seen++;
    ctx.out(json ? JSON.stringify({ subject: m.subject, ...msg }) : table.row({ kind, msg } as WatchEvent));
    if (seen === count) finish(0);
  };
  const subs = [
    nc.subscribe(id ? ctx.s.result(id) : ctx.s.resultWildcard(), { callback: onEvent('result') }),
    nc.subscribe(id ? ctx.s.status(id) : ctx.s.statusWildcard(), { callback: onEvent('status') }),
  ];
  await nc.flush();
  if (!json) ctx.out(table.header());
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

const RUN: Record<Sub, (ctx: Ctx) => Promise<number>> = { put: specPut, get: specGet, ls: specLs, rm: specRm, watch, cluster };

// ---------------------------------------------------------------------------------------------
// Entry point

const SPEC_SUBS = ['put', 'get', 'ls', 'rm'] as const;

export async function runClientCommand(cmd: 'spec' | 'watch' | 'cluster', argv: string[], io: ClientIo): Promise<number | 'running'> {
  const out = (line: string) => void io.stdout.write(`${line}\n`);
  const err = (line: string) => void io.stderr.write(`lookout: ${line}\n`);
  const wantsHelp = (a: readonly string[]) => a.includes('-h') || a.includes('--help');
  try {
    let sub: Sub;
    let rest = argv;
    if (cmd === 'spec') {
      const first = argv[0];
      if (first === undefined || first.startsWith('-')) {
        if (wantsHelp(argv)) return (out(HELP.spec.trimEnd()), 0);
        throw new UsageError(`"spec" needs a command: put, get, ls or rm (see lookout spec --help)`);
      }
      if (!(SPEC_SUBS as readonly string[]).includes(first)) throw new UsageError(`unknown command "spec ${first}" (expected put, get, ls or rm)`);
      sub = first as Sub;
      rest = argv.slice(1);
    } else sub = cmd;
    if (wantsHelp(rest)) return (out(HELP[sub].trimEnd()), 0);
    const command = cmd === 'spec' ? `spec ${sub}` : cmd;
    const args = parseArgs(rest, sub, command);
    const settings = clientSettings(args, io.env);
    let conn: Promise<NatsConnection> | undefined;
    const nc = () => (conn ??= connectClient(settings, sub === 'watch'));
    const ctx: Ctx = { io, args, settings, s: subjects(settings.prefix), nc, out, err };
    try {
      return await RUN[sub](ctx);
    } finally {
      const c = await conn?.catch(() => undefined);
      if (c && !c.isClosed()) await c.close().catch(() => {});
    }
  } catch (e) {
    if (e instanceof UsageError) return (err(e.message), 2);
    if (e instanceof CommandError) return (err(e.message), 1);
    err((e as Error)?.message ?? String(e));
    if (io.env.LOOKOUT_DEBUG) io.stderr.write(`${(e as Error)?.stack}\n`);
    return 1;
  }
}
