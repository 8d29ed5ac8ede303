// Client commands of the `lookout` CLI: `spec put|get|ls|rm` (spec-commands.ts), `notify put|get|ls|rm`
// (notify-commands.ts), `watch`
// (watch.ts), `cluster` (cluster.ts), `status` and `history` (state.ts). They talk to a running cluster over the public NATS API only
// (README "Subjects"), and report every error as one line on stderr: exit code 2 for usage and
// settings (client-args.ts), 1 for everything else. Output formats: format.ts.

import type { NatsConnection } from '@nats-io/transport-node';
import { subjects } from '../runtime/subjects';
import { clientSettings, parseClientArgs, UsageError, type Sub } from './client-args';
import type { ClientIo, Ctx } from './client-context';
import { connectClient } from './client-nats';
import { cluster } from './cluster';
import { HELP } from './format';
import { notifyGet, notifyLs, notifyPut, notifyRm } from './notify-commands';
import { specGet, specLs, specPut, specRm, specSchema } from './spec-commands';
import { history, status } from './state';
import { CommandError } from './spec-files';
import { watch } from './watch';

export type { ClientIo } from './client-context';

const RUN: Record<Sub, (ctx: Ctx) => Promise<number>> = {
  put: specPut, get: specGet, ls: specLs, rm: specRm, schema: specSchema, watch, cluster, status, history,
  'notify-put': notifyPut, 'notify-get': notifyGet, 'notify-ls': notifyLs, 'notify-rm': notifyRm,
};

const SPEC_SUBS = ['put', 'get', 'ls', 'rm', 'schema'] as const;
const NOTIFY_SUBS = ['put', 'get', 'ls', 'rm'] as const;

export async function runClientCommand(cmd: 'spec' | 'notify' | 'watch' | 'cluster' | 'status' | 'history', argv: string[], io: ClientIo): Promise<number | 'running'> {
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
        throw new UsageError(`"spec" needs a command: put, get, ls, rm or schema (see lookout spec --help)`);
      }
      if (!(SPEC_SUBS as readonly string[]).includes(first)) throw new UsageError(`unknown command "spec ${first}" (expected put, get, ls, rm or schema)`);
      sub = first as Sub;
      rest = argv.slice(1);
    } else if (cmd === 'notify') {
      const first = argv[0];
      if (first === undefined || first.startsWith('-')) {
        if (wantsHelp(argv)) return (out(HELP.notify.trimEnd()), 0);
        throw new UsageError(`"notify" needs a command: put, get, ls or rm (see lookout notify --help)`);
      }
      if (!(NOTIFY_SUBS as readonly string[]).includes(first)) throw new UsageError(`unknown command "notify ${first}" (expected put, get, ls or rm)`);
      sub = `notify-${first}` as Sub;
      rest = argv.slice(1);
    } else sub = cmd;
    if (wantsHelp(rest)) return (out(HELP[sub].trimEnd()), 0);
    const command = cmd === 'spec' ? `spec ${sub}` : cmd === 'notify' ? sub.replace('-', ' ') : cmd;
    const args = parseClientArgs(rest, sub, command);
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
