// The `lookout` command line: help, and invalid configuration rejected with one clear line and
// exit code 2, before anything starts.
import { runLookout } from '../helpers/processes';

test.each([
  [{ LOOKOUT_SHARDS: 'lots' }, [], /LOOKOUT_SHARDS: expected an integer from 1 to 4096, got "lots"/],
  [{ NATS_URL: 'http://[bad' }, [], /NATS_URL: expected a NATS URL/],
  [{ LOOKOUT_NODE_ID: 'has space' }, [], /LOOKOUT_NODE_ID: expected 1-64 characters/],
  [{}, ['--jitter-ms', '-5'], /--jitter-ms: expected an integer from 0 to 10000, got "-5"/],
  [{}, ['--no-such-flag', 'x'], /unknown flag --no-such-flag/],
  [{ NATS_USER: 'u' }, [], /NATS_USER and NATS_PASSWORD must be set together/],
])('invalid config %j %j → exit 2 with a clear message', async (env, args, message) => {
  const p = runLookout(['node', ...args], env as Record<string, string>);
  expect(await p.exited).toBe(2);
  expect(p.output()).toMatch(message);
  expect(p.output().trim().split('\n')).toHaveLength(1);
});

test('unknown command → exit 2; --help lists every setting', async () => {
  const bad = runLookout(['fly'], {});
  expect(await bad.exited).toBe(2);
  expect(bad.output()).toMatch(/unknown command "fly"/);
  const help = runLookout(['node', '--help'], {});
  expect(await help.exited).toBe(0);
  for (const s of ['NATS_URL', 'LOOKOUT_NODE_ID', 'LOOKOUT_SHARDS', 'LOOKOUT_SHUTDOWN_GRACE_MS']) expect(help.output()).toContain(s);
});

test('no command → the usage and exit 2 (a usage error); --help → the usage and exit 0', async () => {
  const bare = runLookout([], {});
  expect(await bare.exited).toBe(2);
  expect(bare.output()).toMatch(/^Usage: lookout <command>/);
  const help = runLookout(['--help'], {});
  expect(await help.exited).toBe(0);
  expect(help.output()).toMatch(/^Usage: lookout <command>/);
});

test('connection flags before the command are the command\'s (lookout -s URL spec ls)', async () => {
  const p = runLookout(['-s', 'nats://127.0.0.1:1', '--timeout', '500', 'spec', 'ls'], {});
  expect(await p.exited).toBe(1);
  expect(p.output()).toMatch(/^lookout: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /);
});

test('spec schema prints the CheckSpec JSON Schema without a NATS server', async () => {
  const p = runLookout(['spec', 'schema', '--json'], { NATS_URL: 'nats://127.0.0.1:1' });
  expect(await p.exited).toBe(0);
  const schema = JSON.parse(p.output());
  expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'urn:lookout:check-spec:v1' });
  expect(p.output().trim().split('\n')).toHaveLength(1);
});
