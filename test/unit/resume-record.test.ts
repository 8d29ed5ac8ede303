// Resume records per vantage (protocol/resume-record.ts) as tables: which checks keep one, how a
// stored record is read (hostile input: every field checked, size bounded), and which of the
// record and the result stream's newest result a vantage continues from.
import { decodeResumeRecord, keepsResumePerVantage, newerResume, parseResumeState, resumeRecordOf, RESUME_RECORD_MAX_BYTES } from '../../protocol/resume-record';
import type { ResumeState } from '../../protocol/records';
import { HISTORY_MAX } from '../../protocol/verdict';

const state = (seq: number, extra: Partial<ResumeState> = {}): ResumeState => ({ seq, slot: 1_700_000_000_000, status: 'up', history: '1101', ...extra });
const bytes = (s: string) => new TextEncoder().encode(s);

test.each([
  [1, false], // one vantage: its newest result is the newest on its subject, no extra write
  [2, true],
  [3, true],
  [5, true],
])('replicas %i keeps a resume record per vantage: %s', (replicas, keeps) => {
  expect(keepsResumePerVantage(replicas)).toBe(keeps);
});

describe('parseResumeState', () => {
  const ok = { seq: 12, slot: 1_700_000_000_000, status: 'down', history: '0010' };
  test.each<[string, unknown, ResumeState | null]>([
    ['a record', ok, { seq: 12, slot: 1_700_000_000_000, status: 'down', history: '0010' }],
    ['a whole result message (other fields ignored)', { ...ok, checkId: 'a', vantage: 2, node: 'n1', epoch: 4, ok: false }, { seq: 12, slot: 1_700_000_000_000, status: 'down', history: '0010' }],
    ['seq 0 and an empty history', { ...ok, seq: 0, history: '' }, { seq: 0, slot: 1_700_000_000_000, status: 'down', history: '' }],
    ['the longest history', { ...ok, history: '1'.repeat(HISTORY_MAX) }, { ...ok, status: 'down', history: '1'.repeat(HISTORY_MAX) } as ResumeState],
    ['null', null, null],
    ['an array', [ok], null],
    ['a string', JSON.stringify(ok), null],
    ['no seq', { ...ok, seq: undefined }, null],
    ['a negative seq', { ...ok, seq: -1 }, null],
    ['a fractional seq', { ...ok, seq: 1.5 }, null],
    ['a seq past 2^53', { ...ok, seq: 2 ** 53 }, null],
    ['a seq as a string', { ...ok, seq: '12' }, null],
    ['no slot', { ...ok, slot: undefined }, null],
    ['a negative slot', { ...ok, slot: -5 }, null],
    ['status unknown', { ...ok, status: 'unknown' }, null],
    ['a history too long', { ...ok, history: '1'.repeat(HISTORY_MAX + 1) }, null],
    ['a history of other characters', { ...ok, history: '1x0' }, null],
    ['a history that is not a string', { ...ok, history: 1010 }, null],
    ['the flags of a flapping, degraded up check', { ...ok, status: 'up', degraded: true, flapping: true }, { ...ok, status: 'up', degraded: true, flapping: true } as ResumeState],
    ['degraded means nothing while down: dropped', { ...ok, degraded: true }, { seq: 12, slot: 1_700_000_000_000, status: 'down', history: '0010' }],
    ['flags that are not true: absent', { ...ok, status: 'up', degraded: 'yes', flapping: 1 }, { ...ok, status: 'up' } as ResumeState],
  ])('%s', (_what, raw, want) => {
    expect(parseResumeState(raw)).toEqual(want);
  });
});

describe('decodeResumeRecord', () => {
  test.each<[string, Uint8Array, ResumeState | null]>([
    ['a record as published', bytes(JSON.stringify(state(7))), state(7)],
    ['empty', new Uint8Array(0), null],
    ['not JSON', bytes('{"seq":'), null],
    ['JSON of the wrong shape', bytes('[1,2,3]'), null],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), null],
    ['a valid record padded past the bound', bytes(JSON.stringify(state(7)).padEnd(RESUME_RECORD_MAX_BYTES + 1, ' ')), null],
  ])('%s', (_what, data, want) => {
    expect(decodeResumeRecord(data)).toEqual(want);
  });

  test('the largest legitimate record fits the bound with room to spare', () => {
    const biggest = resumeRecordOf({ seq: Number.MAX_SAFE_INTEGER, slot: Number.MAX_SAFE_INTEGER, status: 'down', history: '0'.repeat(HISTORY_MAX) });
    expect(bytes(JSON.stringify(biggest)).length).toBeLessThan(RESUME_RECORD_MAX_BYTES / 4);
  });
});

test('resumeRecordOf keeps the resume state of a result and nothing else', () => {
  const result = { checkId: 'a', ok: true, node: 'n1', epoch: 3, vantage: 2, latencyMs: 5, ...state(9) };
  expect(resumeRecordOf(result)).toEqual(state(9));
  expect(Object.keys(resumeRecordOf(result)).sort()).toEqual(['history', 'seq', 'slot', 'status']);
  // A degraded or flapping result keeps its flags (protocol/published-verdict.ts): the next owner continues them.
  const flagged = { ...result, status: 'up' as const, degraded: true as const, flapping: true as const };
  expect(resumeRecordOf(flagged)).toEqual({ ...state(9), status: 'up', degraded: true, flapping: true });
});

describe('newerResume (the result stream, the vantage record)', () => {
  // Told apart by their verdict: the stream's results say up, the records down.
  const s = (seq: number) => state(seq, { status: 'up' });
  const r = (seq: number) => state(seq, { status: 'down' });
  test.each<[string, ResumeState | null, ResumeState | null, ResumeState | null]>([
    ['neither found: a fresh start', null, null, null],
    ['only the stream (replicas raised from 1, or a record lost)', s(5), null, s(5)],
    ['only the record (the stream evicted this vantage: the case it exists for)', null, r(5), r(5)],
    ['the record is newer', s(5), r(9), r(9)],
    ['the stream is newer (replicas lowered to 1 and raised again: a stale record)', s(9), r(5), s(9)],
    ['the same result: the stream\'s', s(5), r(5), s(5)],
  ])('%s', (_what, fromStream, fromRecord, want) => {
    expect(newerResume(fromStream, fromRecord)).toEqual(want);
  });
});
