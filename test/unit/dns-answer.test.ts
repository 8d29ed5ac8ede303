// The dns check's pure parts: expected values per record type (what validation accepts and how
// they compare), the text form of answers, the judgement of rcode and answers, and reading a
// response as hostile input (size, id, QR, opcode, question; TCP framing bounded).
import * as packet from 'dns-packet';
import { answerText, expectedText, judgeAnswers, type DnsExpectation, type DnsRecord } from '../../checks/dns-answer';
import { buildQuery, MAX_RESPONSE_BYTES, readResponse, TcpFrameReader, tcpFrame } from '../../checks/dns-wire';
import type { DnsRecordType } from '../../checks/spec-schema-dns';

describe('expectedText', () => {
  test.each<[DnsRecordType, string, string | null]>([
    ['A', '10.0.0.1', '10.0.0.1'],
    ['A', '2001:db8::1', null],
    ['A', '10.0.0.256', null],
    ['A', 'example.com', null],
    ['AAAA', '2001:0DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['AAAA', '::ffff:10.0.0.1', '::ffff:a00:1'],
    ['AAAA', '10.0.0.1', null],
    ['CNAME', 'App.Example.COM.', 'app.example.com'],
    ['CNAME', 'bad..name', null],
    ['NS', 'ns1.example.com', 'ns1.example.com'],
    ['NS', 'has space', null],
    ['MX', '010 Mail.example.com.', '10 mail.example.com'],
    ['MX', '65536 mail.example.com', null],
    ['MX', 'mail.example.com', null],
    ['MX', '10  mail.example.com', null],
    ['SRV', '0 5 5060 sip.example.com', '0 5 5060 sip.example.com'],
    ['SRV', '0 5 5060 .', '0 5 5060 .'],
    ['SRV', '0 5 70000 sip.example.com', null],
    ['SRV', '0 5 sip.example.com', null],
    ['TXT', 'v=spf1 -all', 'v=spf1 -all'],
    ['TXT', 'Case Kept', 'Case Kept'],
  ])('%s %j → %j', (type, value, text) => {
    const got = expectedText(type, value);
    if (text === null) expect(got).toHaveProperty('problem');
    else expect(got).toEqual({ text });
  });
});

describe('answerText', () => {
  test.each<[DnsRecordType, DnsRecord, string | null]>([
    ['A', { type: 'A', data: '10.0.0.1' }, '10.0.0.1'],
    ['A', { type: 'CNAME', data: 'x.example.com' }, null],
    ['A', { type: 'A', data: 'not an address' }, null],
    ['A', { type: 'A', data: 42 }, null],
    ['AAAA', { type: 'AAAA', data: '2001:db8:0:0::1' }, '2001:db8::1'],
    ['CNAME', { type: 'CNAME', data: 'X.Example.com' }, 'x.example.com'],
    ['NS', { type: 'NS', data: '' }, '.'],
    ['MX', { type: 'MX', data: { preference: 5, exchange: 'MX.example.com' } }, '5 mx.example.com'],
    ['MX', { type: 'MX', data: { preference: 5 } }, null],
    ['SRV', { type: 'SRV', data: { priority: 1, weight: 2, port: 3, target: 't.example.com' } }, '1 2 3 t.example.com'],
    ['TXT', { type: 'TXT', data: [Buffer.from('a='), Buffer.from('b')] }, 'a=b'],
    ['TXT', { type: 'TXT', data: 'not a list' }, null],
  ])('%s %j → %j', (type, record, text) => {
    expect(answerText(type, record)).toBe(text);
  });
});

describe('judgeAnswers', () => {
  const base: DnsExpectation = { type: 'A', expectRcode: 'NOERROR', answersContain: [], minAnswers: 1 };
  const a = (...addresses: string[]): DnsRecord[] => addresses.map((data) => ({ type: 'A', data }));
  test.each<[string, Partial<DnsExpectation>, string, DnsRecord[], string | null]>([
    ['the default passes on one answer', {}, 'NOERROR', a('10.0.0.1'), null],
    ['NXDOMAIN', {}, 'NXDOMAIN', [], 'nxdomain'],
    ['SERVFAIL', {}, 'SERVFAIL', [], 'servfail'],
    ['REFUSED', {}, 'REFUSED', [], 'refused'],
    ['another rcode', {}, 'NOTIMP', [], 'answer'],
    ['NOERROR where NXDOMAIN is expected', { expectRcode: 'NXDOMAIN', minAnswers: 0 }, 'NOERROR', a('10.0.0.1'), 'answer'],
    ['NXDOMAIN expected', { expectRcode: 'NXDOMAIN', minAnswers: 0 }, 'NXDOMAIN', [], null],
    ['no answers', {}, 'NOERROR', [], 'answer'],
    ['answers of another type only', {}, 'NOERROR', [{ type: 'CNAME', data: 'x.example.com' }], 'answer'],
    ['minAnswers 0 and none', { minAnswers: 0 }, 'NOERROR', [], null],
    ['contains, normalised', { type: 'AAAA', answersContain: ['2001:DB8::1'] }, 'NOERROR', [{ type: 'AAAA', data: '2001:db8:0::1' }], null],
    ['contains, missing', { answersContain: ['10.0.0.2'] }, 'NOERROR', a('10.0.0.1'), 'answer'],
    ['equal, any order and repeats', { answersEqual: ['10.0.0.2', '10.0.0.1'] }, 'NOERROR', a('10.0.0.1', '10.0.0.2', '10.0.0.1'), null],
    ['equal, one more', { answersEqual: ['10.0.0.1'] }, 'NOERROR', a('10.0.0.1', '10.0.0.2'), 'answer'],
    ['equal, one fewer', { answersEqual: ['10.0.0.1', '10.0.0.2'] }, 'NOERROR', a('10.0.0.1'), 'answer'],
  ])('%s', (_what, e, rcode, records, reason) => {
    const failure = judgeAnswers({ ...base, ...e }, rcode, records, 'redacted');
    expect(failure?.reason ?? null).toBe(reason);
    // Redacted: the message never quotes what the server answered.
    if (failure) expect(failure.message).not.toMatch(/10\.0\.0\.1"|\(10\./);
  });

  test('full detail quotes at most four answers', () => {
    const failure = judgeAnswers({ ...base, minAnswers: 9 }, 'NOERROR', a('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'), 'full');
    expect(failure?.message).toBe('expected at least 9 A answers, got 5 A answers ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", …)');
  });
});

describe('readResponse', () => {
  const query = buildQuery('App.Example.com.', 'A', 4242);
  const response = (over: Partial<packet.Packet> & { flags?: number } = {}): Buffer =>
    packet.encode({ type: 'response', id: 4242, flags: 0, questions: [{ type: 'A', name: 'app.example.com', class: 'IN' }], answers: [], ...over });

  test('the query asks one question with recursion desired', () => {
    const q = packet.decode(query.bytes);
    expect(q).toMatchObject({ id: 4242, type: 'query', flag_rd: true, questions: [{ name: 'App.Example.com', type: 'A', class: 'IN' }] });
  });

  test('a matching response (the question in another case)', () => {
    const read = readResponse(response({ flags: packet.TRUNCATED_RESPONSE | 3, answers: [{ type: 'A', name: 'app.example.com', data: '10.0.0.1' }] }), query);
    expect(read).toEqual({ response: { rcode: 'NXDOMAIN', truncated: true, answers: [expect.objectContaining({ type: 'A', data: '10.0.0.1' })] } });
  });

  test.each<[string, () => Buffer, RegExp]>([
    ['too short', () => Buffer.alloc(11), /shorter than a DNS header/],
    ['too long', () => Buffer.alloc(MAX_RESPONSE_BYTES + 1), /more than 65535/],
    ['another id', () => response({ id: 4243 }), /id 4243 does not match the query's 4242/],
    ['garbage after a matching id', () => Buffer.concat([Buffer.from([0x10, 0x92]), Buffer.alloc(10, 0xff), Buffer.from('junk')]), /does not decode/],
    ['a query, not a response', () => packet.encode({ type: 'query', id: 4242, questions: [{ type: 'A', name: 'app.example.com' }] }), /QR bit clear/],
    ['another name', () => response({ questions: [{ type: 'A', name: 'other.example.com' }] }), /another question/],
    ['another type', () => response({ questions: [{ type: 'AAAA', name: 'app.example.com' }] }), /another question/],
    ['no question', () => response({ questions: [] }), /0 questions/],
  ])('%s', (_what, bytes, problem) => {
    const read = readResponse(bytes(), query);
    expect(read).toHaveProperty('problem');
    expect((read as { problem: string }).problem).toMatch(problem);
  });
});

describe('TCP framing', () => {
  test('a frame read back in pieces', () => {
    const frame = tcpFrame(Buffer.from('hello'));
    const reader = new TcpFrameReader();
    expect(reader.push(frame.subarray(0, 1))).toBeNull();
    expect(reader.push(frame.subarray(1, 4))).toBeNull();
    expect(reader.push(frame.subarray(4))?.toString()).toBe('hello');
  });

  test('a peer that sends more than a frame can hold is cut at 2 + 65535 bytes', () => {
    const reader = new TcpFrameReader();
    const huge = Buffer.alloc(200_000, 0xff); // length prefix 0xffff, then more than that
    expect(reader.push(huge)?.length).toBe(65_535);
  });
});
