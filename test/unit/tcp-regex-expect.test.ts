// A dialog's expectRegex step (checks/tcp-regex-expect.ts) on a fake socket, with a fake capturer
// in place of the body worker: what is matched (whole lines, the unfinished one only at the end),
// one match at a time, the bytes after a match kept, and each way the step fails. No network, no timers.
import { RE2JS } from 're2js';
import type { CaptureVerdict } from '../../checks/body-job';
import { receivedOffset, withoutCrBeforeLf } from '../../checks/crlf-lines';
import { expectRegex, type RegexCapturer, type RegexExpectIo } from '../../checks/tcp-regex-expect';
import { readerOn } from '../helpers/fake-socket';

/** The worker's capture, run here; each call is held until `answer` (or answered at once with `auto`). */
class FakeCapturer implements RegexCapturer {
  /** What each match was given, as text. */
  readonly seen: string[] = [];
  private held: (() => void)[] = [];
  constructor(
    private readonly auto = true,
    private readonly verdict?: CaptureVerdict,
  ) {}

  capture(pattern: string, bytes: Uint8Array, groupChars: number): Promise<CaptureVerdict> {
    this.seen.push(Buffer.from(bytes).toString('utf8'));
    const answer = (): CaptureVerdict => {
      if (this.verdict) return this.verdict;
      const re = RE2JS.compile(pattern, RE2JS.MULTILINE);
      const m = re.matcher(bytes);
      if (!m.find()) return { status: 'no_match' };
      const groups = Array.from({ length: re.groupCount() + 1 }, (_, i) => m.group(i)?.slice(0, groupChars) ?? null);
      return { status: 'match', end: m.end(), captures: { groups, named: m.getNamedGroups() } };
    };
    if (this.auto) return Promise.resolve(answer());
    return new Promise((resolve) => this.held.push(() => resolve(answer())));
  }

  /** Answer the oldest held match. */
  answer(): void {
    this.held.shift()?.();
  }
}

const io = (capturer: RegexCapturer, extra: Partial<RegexExpectIo> = {}): RegexExpectIo => ({ capturer, signal: new AbortController().signal, groupChars: 4097, ...extra });
const SSH = '^SSH-2.0-([^ -]+)(?: (.*))?$';

describe('expectRegex', () => {
  test("blackbox's banner regex: matched once the line is whole, never on half a version string; bytes after it stay", async () => {
    const { socket, reader } = readerOn(256);
    const capturer = new FakeCapturer();
    const step = expectRegex(reader, SSH, 'tcp.dialog[0]: ', io(capturer));
    socket.emit('data', Buffer.from('SSH-2.0-Open'));
    expect(capturer.seen).toEqual([]); // no line end yet: nothing to match
    socket.emit('data', Buffer.from('SSH_6.9p1 Debian-2\n+OK'));
    const r = await step;
    expect(r.failure).toBeNull();
    expect(r.captures?.groups.slice(1)).toEqual(['OpenSSH_6.9p1', 'Debian-2']);
    expect(capturer.seen).toEqual(['SSH-2.0-OpenSSH_6.9p1 Debian-2\n']);
    expect(await reader.expect('+OK', '', '"+OK"')).toBeNull(); // "\n+OK" was kept for the next step
  });

  test('one match at a time: lines that come while one runs are matched together next', async () => {
    const { socket, reader } = readerOn(256);
    const capturer = new FakeCapturer(false);
    const step = expectRegex(reader, '^250 (\\w+)', '', io(capturer));
    socket.emit('data', Buffer.from('220 hello\n'));
    socket.emit('data', Buffer.from('250-a\n'));
    socket.emit('data', Buffer.from('250-b\n'));
    socket.emit('data', Buffer.from('250 done\n'));
    expect(capturer.seen).toEqual(['220 hello\n']);
    capturer.answer();
    await new Promise(setImmediate);
    expect(capturer.seen).toEqual(['220 hello\n', '220 hello\n250-a\n250-b\n250 done\n']);
    capturer.answer();
    expect((await step).captures?.groups[1]).toBe('done');
  });

  test.each<[string, string[], boolean, string, RegExp]>([
    ['the peer closes after another answer (a send before): body', ['500 no\n'], true, 'body', /^tcp\.dialog\[1\]: peer closed before sending \/\^250 \/ \(7 bytes received\)$/],
    ['the peer closes without a byte since the send: reset', [], true, 'reset', /the peer closed the connection before sending \/\^250 \//],
    ['an unfinished last line is matched once the peer closes', ['250 ok'], false, 'match', /^$/],
  ])('%s', async (_name, chunks, sentFirst, outcome, message) => {
    const { socket, reader } = readerOn(256);
    if (sentFirst) reader.sent();
    const capturer = new FakeCapturer();
    const step = expectRegex(reader, '^250 ', 'tcp.dialog[1]: ', io(capturer));
    for (const c of chunks) socket.emit('data', Buffer.from(c));
    socket.emit('end');
    const r = await step;
    expect(r.failure?.reason ?? 'match').toBe(outcome);
    expect(r.failure?.message ?? '').toMatch(message);
  });

  test('the budget spent without a match: too_large, after one last match on all of it', async () => {
    const { socket, reader } = readerOn(16);
    const capturer = new FakeCapturer();
    const step = expectRegex(reader, 'never', '', io(capturer));
    socket.emit('data', Buffer.from('line one\nline two is long'));
    expect(await step).toEqual({ failure: { reason: 'too_large', message: '/never/ not matched in the first 16 bytes' } });
    expect(capturer.seen).toEqual(['line one\n', 'line one\nline tw']);
  });

  test.each<[string, CaptureVerdict, RegExp, string | undefined]>([
    ['stopped at the budget', { status: 'overrun', budgetMs: 200, remembered: false }, /^tcp\.dialog\[0\]: expectRegex \/x\/ was stopped after 200 ms on 6 characters of body/, 'budget'],
    ['refused from memory', { status: 'overrun', budgetMs: 200, remembered: true }, /was stopped after 200 ms/, 'remembered'],
    ['rationed', { status: 'rationed', heavyMs: 50, sharePct: 50 }, /was not run: it took over 50 ms recently/, 'rationed'],
  ])('the body worker gave no answer (%s): body, and the node is told', async (_name, verdict, message, why) => {
    const { socket, reader } = readerOn();
    const reports: string[] = [];
    const step = expectRegex(reader, 'x', 'tcp.dialog[0]: ', io(new FakeCapturer(true, verdict), { onWorkerOverrun: (a, w) => reports.push(`${a}:${w}`) }));
    socket.emit('data', Buffer.from('hello\n'));
    const r = await step;
    expect(r.failure?.reason).toBe('body');
    expect(r.failure?.message).toMatch(message);
    expect(reports).toEqual([`expectRegex:${why}`]);
  });

  test('a socket error rejects the step', async () => {
    const { socket, reader } = readerOn();
    const step = expectRegex(reader, 'x', '', io(new FakeCapturer()));
    socket.emit('error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await expect(step).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('crlf-lines: what the regex runs on (the CR of each CR LF left out) and offsets back in the bytes received', () => {
  test.each<[string, string, [number, number][]]>([
    ['no CR', 'a\nb', [[0, 0], [2, 2], [3, 3]]],
    ['CR LF lines', 'ab\r\ncd\r\n', [[2, 2], [3, 4], [5, 6], [6, 8]]],
    ['a lone CR stays', 'a\rb\r\n', [[3, 3], [4, 5]]],
    ['CR CR LF: only the last CR goes', '\r\r\n', [[1, 1], [2, 3]]],
  ])('%s', (_name, received, offsets) => {
    const text = withoutCrBeforeLf(Buffer.from(received));
    expect(Buffer.from(text.bytes).toString()).toBe(received.replace(/\r\n/g, '\n'));
    for (const [at, back] of offsets) expect([at, receivedOffset(text, at)]).toEqual([at, back]);
  });
});
