// The arguments and settings of a client command (`spec put|get|ls|rm`, `notify put|get|ls|rm`, `watch`, `cluster`, `status`, `history`): its
// flags, read by runtime/argv.ts (util.parseArgs), and its connection settings, resolved from
// flags, then the environment, then defaults by the node's own code (runtime/config.ts) — the
// NATS settings and the prefix, under the flag names of the nats CLI (-s/--server). Every mistake
// here is a UsageError: exit code 2.

import { ConfigError, NATS_SETTINGS, SETTINGS, checkNatsAuth, resolveSettings, type SettingValues } from '../runtime/config';
import { readArgv, type ArgvProblem, type FlagDefs } from '../runtime/argv';
import { isValidCheckId } from '../runtime/subjects';

/** A usage or settings error: exit code 2. (A CommandError is everything else: exit code 1.) */
export class UsageError extends Error {}

export type Sub = 'put' | 'get' | 'ls' | 'rm' | 'schema' | 'watch' | 'cluster' | 'status' | 'history' | 'notify-put' | 'notify-get' | 'notify-ls' | 'notify-rm';

/** The settings a client reads. Node-only LOOKOUT_* values are never read, so they never matter. */
const CLIENT_SETTINGS = {
  ...NATS_SETTINGS,
  natsUrl: { ...NATS_SETTINGS.natsUrl, flag: 'server' },
  prefix: SETTINGS.prefix,
};

const SETTING_FLAGS: FlagDefs = Object.fromEntries(Object.values(CLIENT_SETTINGS).map((d) => [d.flag, { type: 'string' as const }]));

const COMMON_FLAGS: FlagDefs = {
  ...SETTING_FLAGS,
  server: { type: 'string', short: 's' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const JSON_FLAG: FlagDefs = { json: { type: 'boolean' } };

const COMMAND_FLAGS: Record<Sub, FlagDefs> = {
  put: { id: { type: 'string' }, wait: { type: 'string' } },
  get: JSON_FLAG,
  // --page-size is not in the help: it exists to exercise paging without thousands of specs.
  ls: { ...JSON_FLAG, 'page-size': { type: 'string' } },
  rm: {},
  schema: JSON_FLAG,
  watch: { ...JSON_FLAG, count: { type: 'string' } },
  cluster: JSON_FLAG,
  status: { ...JSON_FLAG, 'id-prefix': { type: 'string' }, label: { type: 'string' } },
  history: { ...JSON_FLAG, from: { type: 'string' }, to: { type: 'string' }, last: { type: 'string' }, grain: { type: 'string' } },
  'notify-put': {},
  'notify-get': JSON_FLAG,
  'notify-ls': JSON_FLAG,
  'notify-rm': {},
};
const POSITIONALS: Record<Sub, [min: number, max: number, name: string]> = {
  put: [1, 1, '<file|dir|->'],
  get: [1, 1, '<id>'],
  ls: [0, 0, ''],
  rm: [1, 1, '<id>'],
  schema: [0, 0, ''],
  watch: [0, 1, '[id]'],
  cluster: [0, 0, ''],
  status: [0, 1, '[id]'],
  history: [1, 1, '<id>'],
  'notify-put': [2, 2, '<id> <file|->'],
  'notify-get': [1, 1, '<id>'],
  'notify-ls': [0, 0, ''],
  'notify-rm': [1, 1, '<id>'],
};

export interface Args {
  opts: ReadonlyMap<string, string | true>;
  positionals: string[];
}

export function parseClientArgs(argv: readonly string[], sub: Sub, command: string): Args {
  const problem = (p: ArgvProblem): UsageError => {
    switch (p.kind) {
      case 'unknown-flag':
        return new UsageError(`unknown flag ${p.flag} for "${command}" (see lookout ${command} --help)`);
      case 'unexpected-value':
        return new UsageError(`flag ${p.flag} takes no value`);
      case 'missing-value':
        return new UsageError(`flag ${p.flag} needs a value`);
      case 'unexpected-positional':
        return new UsageError(`unexpected argument ${JSON.stringify(p.value)} for "${command}" (see lookout ${command} --help)`);
    }
  };
  const { flags, positionals } = readArgv(argv, { ...COMMON_FLAGS, ...COMMAND_FLAGS[sub] }, problem);
  const [min, max, name] = POSITIONALS[sub];
  if (positionals.length < min) throw new UsageError(`"${command}" needs ${name} (see lookout ${command} --help)`);
  if (positionals.length > max) throw problem({ kind: 'unexpected-positional', value: positionals[max]! });
  return { opts: flags, positionals };
}

export function str(args: Args, long: string): string | undefined {
  const v = args.opts.get(long);
  return typeof v === 'string' ? v : undefined;
}

export function intOpt(args: Args, long: string, min: number, max: number): number | undefined {
  const raw = str(args, long);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${long}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function checkIdArg(id: string): string {
  if (!isValidCheckId(id)) throw new UsageError(`invalid check id ${JSON.stringify(id)}: ids match ^[A-Za-z0-9_-]{1,128}$`);
  return id;
}

export type ClientSettings = SettingValues<typeof CLIENT_SETTINGS> & { timeoutMs: number };

/** Flags, then the environment (NATS_*, LOOKOUT_PREFIX), then defaults; --timeout is the client's own. */
export function clientSettings(args: Args, env: NodeJS.ProcessEnv): ClientSettings {
  let settings;
  try {
    settings = resolveSettings(CLIENT_SETTINGS, env, args.opts);
    checkNatsAuth(settings);
  } catch (err) {
    throw err instanceof ConfigError ? new UsageError(err.message) : err;
  }
  return { ...settings, timeoutMs: intOpt(args, 'timeout', 1, 3_600_000) ?? 5000 };
}
