// Command lines: runtime/argv.ts (util.parseArgs) read for the four commands that take flags —
// `lookout node` (parseFlags), the client commands, `lookout dev`, `lookout demo-target` — and the
// one settings resolver the node and the client commands share (runtime/config.ts).
import { clientSettings, parseClientArgs, UsageError } from '../../cli/client-args';
import { parseDemoArgs } from '../../dev/demo-target';
import { parseDevArgs } from '../../dev/dev-cluster';
import { commandFirst, readArgv, type ArgvProblem, type FlagDefs } from '../../runtime/argv';
import { ConfigError, loadConfig, NATS_SETTINGS, parseFlags, resolveSettings, SETTINGS } from '../../runtime/config';

describe('readArgv', () => {
  const defs: FlagDefs = { server: { type: 'string', short: 's' }, json: { type: 'boolean' }, id: { type: 'string' } };
  const read = (argv: string[], max = Infinity) => {
    const r = readArgv(argv, defs, (p) => Object.assign(new Error(p.kind), { problem: p }), max);
    return { flags: Object.fromEntries(r.flags), positionals: r.positionals };
  };
  const problem = (argv: string[], max = Infinity): ArgvProblem => {
    try {
      read(argv, max);
    } catch (err) {
      return (err as { problem: ArgvProblem }).problem;
    }
    throw new Error(`no problem with ${JSON.stringify(argv)}`);
  };

  test.each([
    [['--server', 'nats://a:1'], { server: 'nats://a:1' }, []],
    [['--server=nats://a:1'], { server: 'nats://a:1' }, []],
    [['-s', 'nats://a:1'], { server: 'nats://a:1' }, []],
    // a value may start with a dash: the setting that refuses it says so
    [['--id', '-5'], { id: '-5' }, []],
    [['--id='], { id: '' }, []],
    [['--json', 'a', '-'], { json: true }, ['a', '-']],
    [['--', '--json'], {}, ['--json']],
    [['--id', 'a', '--id', 'b'], { id: 'b' }, []],
  ])('%j → flags %j, positionals %j', (argv, flags, positionals) => {
    expect(read(argv)).toEqual({ flags, positionals });
  });

  test.each([
    [['--nope', 'x'], Infinity, { kind: 'unknown-flag', flag: '--nope' }],
    [['-x'], Infinity, { kind: 'unknown-flag', flag: '-x' }],
    [['--id'], Infinity, { kind: 'missing-value', flag: '--id' }],
    [['-s'], Infinity, { kind: 'missing-value', flag: '-s' }],
    [['--json=yes'], Infinity, { kind: 'unexpected-value', flag: '--json' }],
    [['a', 'b'], 1, { kind: 'unexpected-positional', value: 'b' }],
    // the first problem in command-line order
    [['stray', '--nope'], 0, { kind: 'unexpected-positional', value: 'stray' }],
    [['--nope', 'stray'], 0, { kind: 'unknown-flag', flag: '--nope' }],
  ])('%j (at most %d positionals) → %j', (argv, max, expected) => {
    expect(problem(argv, max)).toEqual(expected);
  });
});

describe('the four commands', () => {
  test.each([
    [['--nope', '1'], 'unknown flag --nope (see --help)'],
    [['--shards'], 'flag --shards needs a value'],
    [['stray'], 'unexpected argument "stray"'],
  ])('lookout node %j → ConfigError %j', (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(new ConfigError(message));
  });

  test.each([
    ['spec ls', ['--bogus'], 'ls', 'unknown flag --bogus for "spec ls" (see lookout spec ls --help)'],
    ['spec ls', ['--json=1'], 'ls', 'flag --json takes no value'],
    ['spec put', ['--id'], 'put', 'flag --id needs a value'],
    ['spec get', [], 'get', '"spec get" needs <id> (see lookout spec get --help)'],
    ['cluster', ['extra'], 'cluster', 'unexpected argument "extra" for "cluster" (see lookout cluster --help)'],
  ] as const)('lookout %s %j → UsageError', (command, argv, sub, message) => {
    expect(() => parseClientArgs(argv, sub, command)).toThrow(UsageError);
    expect(() => parseClientArgs(argv, sub, command)).toThrow(new UsageError(message));
  });

  test('lookout dev: flags, defaults, and what is refused', () => {
    expect(parseDevArgs(['--nodes', '5', '--dir=/tmp/x', '--metrics-port', '0', '--no-status'])).toEqual({ nodes: 5, dir: '/tmp/x', metricsPort: 0, status: false });
    expect(parseDevArgs([])).toMatchObject({ nodes: 3, metricsPort: 9464, status: true });
    expect(parseDevArgs(['-h'])).toBe('help');
    expect(() => parseDevArgs(['--nodes', '10'])).toThrow(new ConfigError('--nodes: expected an integer from 1 to 9'));
    expect(() => parseDevArgs(['--dir'])).toThrow(new ConfigError('--dir needs a value'));
    expect(() => parseDevArgs(['now'])).toThrow(new ConfigError('unknown option "now" (see lookout dev --help)'));
  });

  test('lookout demo-target: --port wins over DEMO_PORT, which wins over the default', () => {
    expect(parseDemoArgs(['--port', '81', '--host=127.0.0.1'], { DEMO_PORT: '82' })).toEqual({ help: false, host: '127.0.0.1', port: 81 });
    expect(parseDemoArgs([], { DEMO_PORT: '82' })).toEqual({ help: false, host: '0.0.0.0', port: 82 });
    expect(parseDemoArgs([], {})).toMatchObject({ port: 8080 });
    expect(() => parseDemoArgs(['--port', '70000'], {})).toThrow(new ConfigError('--port: expected an integer from 0 to 65535, got "70000"'));
    expect(() => parseDemoArgs(['--host='], {})).toThrow(new ConfigError('demo-target: --host needs a value'));
    expect(() => parseDemoArgs(['--nope'], {})).toThrow(new ConfigError('demo-target: unknown argument "--nope" (see lookout demo-target --help)'));
  });
});

describe('one settings resolver for the node and the client commands', () => {
  const env = { NATS_URL: 'nats://env:1', LOOKOUT_PREFIX: 'p', NATS_TOKEN: 't', LOOKOUT_SHARDS: 'lots' };

  test('the client reads the NATS settings and the prefix as the node does, under -s/--server', () => {
    const node = loadConfig({ ...env, LOOKOUT_SHARDS: '8' });
    const client = clientSettings(parseClientArgs([], 'ls', 'spec ls'), env);
    for (const key of [...Object.keys(NATS_SETTINGS), 'prefix'] as const) expect([key, client[key as keyof typeof client]]).toEqual([key, node[key as keyof typeof node]]);
    expect(client.timeoutMs).toBe(5000);
    expect(clientSettings(parseClientArgs(['-s', 'nats://flag:2', '--timeout', '9'], 'ls', 'spec ls'), env)).toMatchObject({ natsUrl: 'nats://flag:2', timeoutMs: 9 });
  });

  test('the same refusals, worded the same; a client refusal is a usage error', () => {
    const bad = { NATS_URL: 'http://x:1' };
    const message = 'NATS_URL: expected a NATS URL such as nats://127.0.0.1:4222 (comma-separated for several), got "http://x:1"';
    expect(() => loadConfig(bad)).toThrow(new ConfigError(message));
    expect(() => clientSettings(parseClientArgs([], 'ls', 'spec ls'), bad)).toThrow(UsageError);
    expect(() => clientSettings(parseClientArgs([], 'ls', 'spec ls'), bad)).toThrow(new UsageError(message));
    expect(() => clientSettings(parseClientArgs(['--prefix', 'a..b'], 'ls', 'spec ls'), {})).toThrow(/^--prefix: expected dot-separated tokens/);
    expect(() => clientSettings(parseClientArgs(['--user', 'u'], 'ls', 'spec ls'), {})).toThrow(new UsageError('NATS_USER and NATS_PASSWORD must be set together'));
  });

  test('resolveSettings: flag, then environment, then default (a function default is called)', () => {
    const defs = { prefix: SETTINGS.prefix, nodeId: SETTINGS.nodeId };
    expect(resolveSettings(defs, { LOOKOUT_PREFIX: 'e', LOOKOUT_NODE_ID: 'n1' }, new Map([['prefix', 'f']]))).toEqual({ prefix: 'f', nodeId: 'n1' });
    expect(resolveSettings(defs, {}, new Map()).nodeId).toMatch(/^[A-Za-z0-9_-]+-\d+$/);
  });
});

describe('flags before the command (commandFirst)', () => {
  const CMDS = ['node', 'spec', 'watch', 'cluster', 'status'];
  test.each([
    ['the command first: unchanged', ['cluster', '--json'], ['cluster', '--json']],
    ['a server before the command', ['-s', 'nats://10.0.0.5:4222', 'cluster'], ['cluster', '-s', 'nats://10.0.0.5:4222']],
    ['flag=value and a switch before it', ['--server=nats://h:4222', '--json', 'status', 'api'], ['status', '--server=nats://h:4222', '--json', 'api']],
    ['a flag value that is a command name is still the value', ['--prefix', 'status', 'cluster'], ['cluster', '--prefix', 'status']],
    ['spec keeps its sub-command first', ['-s', 'nats://h', 'spec', 'get', 'api', '--json'], ['spec', 'get', '-s', 'nats://h', 'api', '--json']],
    ['no command after the flags: unchanged (the command reports it)', ['--help'], ['--help']],
    ['an unknown word after the flags: unchanged', ['-s', 'x', 'frob'], ['-s', 'x', 'frob']],
    ['nothing', [], []],
  ] as const)('%s', (_name, argv, want) => {
    expect(commandFirst(argv, CMDS)).toEqual(want);
  });
});
