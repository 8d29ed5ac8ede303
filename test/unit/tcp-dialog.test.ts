// The tcp dialog as data (checks/tcp-dialog.ts) and the step matching of checks/tcp-peer-reader.ts
// on a fake socket: table tests, no network, no timers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { normalizeSpec } from '../../checks/spec';
import { CheckSpecDocumentSchema } from '../../checks/spec-json-schema';
import { validateSpec } from '../../checks/validate';
import { dialogOf, expectsAnswer, hasStartTls, preview, stepPrefix, type DialogStep } from '../../checks/tcp-dialog';
import { fakeSocket, readerOn } from '../helpers/fake-socket';

describe('dialogOf: one list of steps for every way a tcp section is written', () => {
  test.each<[string, Parameters<typeof dialogOf>[0], DialogStep[]]>([
    ['nothing: connect only', {}, []],
    ['send only', { send: 'QUIT\r\n' }, [{ kind: 'send', data: 'QUIT\r\n', at: 'tcp.send' }]],
    ['expect only (a banner)', { expect: 'SSH-2.0-' }, [{ kind: 'expect', text: 'SSH-2.0-', at: 'tcp.expect' }]],
    [
      'send and expect: send first',
      { expect: '+PONG', send: 'PING\r\n' },
      [
        { kind: 'send', data: 'PING\r\n', at: 'tcp.send' },
        { kind: 'expect', text: '+PONG', at: 'tcp.expect' },
      ],
    ],
    [
      'a dialog, with its field paths',
      { dialog: [{ expect: '220 ' }, { send: 'STARTTLS\r\n' }, { starttls: true }, { send: '' }] },
      [
        { kind: 'expect', text: '220 ', at: 'tcp.dialog[0]' },
        { kind: 'send', data: 'STARTTLS\r\n', at: 'tcp.dialog[1]' },
        { kind: 'starttls', at: 'tcp.dialog[2]' },
        { kind: 'send', data: '', at: 'tcp.dialog[3]' },
      ],
    ],
  ])('%s', (_name, tcp, steps) => {
    expect(dialogOf(tcp)).toEqual(steps);
  });

  test('the single send / expect and the same dialog run the same steps (only the paths differ)', () => {
    const single = normalizeSpec('a', { kind: 'tcp', target: 'h:1', tcp: { send: 'PING\r\n', expect: '+PONG' } }).tcp.dialog;
    const dialog = normalizeSpec('b', { kind: 'tcp', target: 'h:1', tcp: { dialog: [{ send: 'PING\r\n' }, { expect: '+PONG' }] } }).tcp.dialog;
    const without = (steps: DialogStep[]) => steps.map(({ at: _at, ...rest }) => rest);
    expect(without(single)).toEqual(without(dialog));
  });

  test.each<[string, DialogStep[], boolean, boolean]>([
    ['none', [], false, false],
    ['a send', [{ kind: 'send', data: 'x', at: 'tcp.send' }], false, false],
    ['an expect', [{ kind: 'expect', text: 'x', at: 'tcp.expect' }], false, true],
    ['a starttls', [{ kind: 'starttls', at: 'tcp.dialog[0]' }], true, false],
  ])('%s: starttls %s, expects %s', (_name, steps, starttls, expects) => {
    expect([hasStartTls(steps), expectsAnswer(steps)]).toEqual([starttls, expects]);
  });

  test('messages: a dialog step is named, the single send / expect read as before; expected text is cut at 80 characters', () => {
    expect(stepPrefix({ kind: 'starttls', at: 'tcp.dialog[5]' })).toBe('tcp.dialog[5]: ');
    expect(stepPrefix({ kind: 'expect', text: 'x', at: 'tcp.expect' })).toBe('');
    expect(preview('250 ')).toBe('"250 "');
    expect(preview('x'.repeat(200))).toHaveLength(80);
  });
});

test("the README's tcp dialog example passes the validator and the JSON Schema, and runs the SMTP steps", () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const sample = /A tcp dialog: [\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
  const doc: unknown = JSON.parse(sample!);
  const r = validateSpec(doc, 'smtp');
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  expect(Value.Check(CheckSpecDocumentSchema, doc)).toBe(true);
  const steps = normalizeSpec('smtp', r.spec).tcp.dialog;
  expect(steps.map((s) => s.kind)).toEqual(['expect', 'send', 'expect', 'send', 'expect', 'starttls', 'send', 'expect', 'send']);
});

type Event = string | 'end';
/** Feed `events` to a reader while it waits for `text`; the expect's failure reason, or 'match'. */
async function expectOn(events: Event[], text: string, cap = 64): Promise<string> {
  const { socket, reader } = readerOn(cap);
  const waiting = reader.expect(text, '', JSON.stringify(text));
  for (const e of events) socket.emit(e === 'end' ? 'end' : 'data', e === 'end' ? undefined : Buffer.from(e));
  socket.emit('end');
  const failure = await waiting;
  return failure?.reason ?? 'match';
}

describe('PeerReader: one expect', () => {
  test.each<[string, Event[], string, number, string]>([
    ['found in one chunk', ['220 ready\r\n'], '220 ', 64, 'match'],
    ['split across chunks', ['2', '2', '0 ready'], '220 ', 64, 'match'],
    ['other bytes, then the close', ['500 no\r\n', 'end'], '220 ', 64, 'body'],
    ['a close without a byte', ['end'], '220 ', 64, 'reset'],
    ['the budget spent without it', ['x'.repeat(10)], 'y', 8, 'too_large'],
    ['found in the last byte of the budget', ['xxxxxxxy'], 'y', 8, 'match'],
    ['found just past the budget: not seen', ['xxxxxxxxy'], 'y', 8, 'too_large'],
  ])('%s', async (_name, events, text, cap, outcome) => {
    expect(await expectOn(events, text, cap)).toBe(outcome);
  });

  test('bytes after a match are the next expect\'s; the budget is the whole probe\'s', async () => {
    const { socket, reader } = readerOn(20);
    const first = reader.expect('220', '', '"220"');
    socket.emit('data', Buffer.from('220 a\r\n250 b\r\n'));
    expect(await first).toBeNull();
    expect(await reader.expect('250', '', '"250"')).toBeNull(); // from what was kept, no new bytes
    const third = reader.expect('354', 'tcp.dialog[4]: ', '"354"');
    socket.emit('data', Buffer.from('xxxxxxxxxx'));
    expect(await third).toEqual({ reason: 'too_large', message: 'tcp.dialog[4]: "354" not in the first 20 bytes' });
    expect([reader.bytes, reader.truncated, socket.paused]).toEqual([20, true, true]);
  });

  test('a close with only an earlier answer buffered, after a send: reset (it hung up)', async () => {
    const { socket, reader } = readerOn();
    const banner = reader.expect('NOTICE', '', '"NOTICE"');
    socket.emit('data', Buffer.from(':irc NOTICE AUTH :looking up\r\n'));
    expect(await banner).toBeNull();
    reader.sent();
    socket.emit('end');
    expect((await reader.expect(' 001 ', '', '" 001 "'))?.reason).toBe('reset');
  });

  test('detach drops what no expect read (bytes before a STARTTLS handshake are never read as TLS)', async () => {
    const { socket: plain, reader } = readerOn();
    const ready = reader.expect('220 ', '', '"220 "');
    plain.emit('data', Buffer.from('220 go\r\n250 injected\r\n'));
    expect(await ready).toBeNull();
    reader.detach();
    const secure = fakeSocket();
    reader.attach(secure);
    const after = reader.expect('injected', '', '"injected"');
    secure.emit('data', Buffer.from('250 over tls\r\n'));
    secure.emit('end');
    expect((await after)?.reason).toBe('body'); // the plain bytes were not searched
    expect(reader.bytes).toBe('220 go\r\n250 injected\r\n'.length + '250 over tls\r\n'.length);
  });

  test('a socket error rejects the expect', async () => {
    const { socket, reader } = readerOn();
    const waiting = reader.expect('x', '', '"x"');
    socket.emit('error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await expect(waiting).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
