// A dialog send as a template (checks/tcp-send-template.ts): parsing, $$ and a lone $, the
// references, expansion with groups that did or did not take part, and the bound on the result.
// Pure table tests.
import { expandSend, literalOf, parseSendTemplate, referencesOf, SEND_TEMPLATE_PATTERN, type Captures, type SendPart } from '../../checks/tcp-send-template';

describe('parseSendTemplate', () => {
  test.each<[string, SendPart[]]>([
    ['QUIT\r\n', ['QUIT\r\n']],
    ['', []],
    ['CONFIRM ${1}\n', ['CONFIRM ', { group: 1 }, '\n']],
    ['${0}${9}', [{ group: 0 }, { group: 9 }]],
    ['PONG ${server}', ['PONG ', { name: 'server' }]],
    ['$$', ['$']],
    ['$${1}', ['${1}']],
    ['$$$${1}', ['$${1}']],
    ['$$${1}', ['$', { group: 1 }]],
    ['cost $5 or $', ['cost $5 or $']],
    ['a $x ${_v2} b', ['a $x ', { name: '_v2' }, ' b']],
  ])('%j', (text, parts) => {
    expect(parseSendTemplate(text)).toEqual({ ok: true, parts });
  });

  test.each([
    ['${10}', /\$\{10\} at character 0 is not a group reference: groups go up to \$\{9\}/],
    ['x ${}', /\$\{\} at character 2 is not a group reference/],
    ['${a-b}', /not a group reference: a reference is/],
    ['PONG ${1', /an unclosed \$\{ at character 5 \(write \$\$ for a literal \$\)/],
    [`\${${'n'.repeat(33)}}`, /not a group reference/],
  ])('%j is malformed', (text, message) => {
    const r = parseSendTemplate(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  test('references in order, repeats kept; the literal text without them', () => {
    const r = parseSendTemplate('${1}-${v}-${1}$$');
    if (!r.ok) throw new Error(r.message);
    expect(referencesOf(r.parts)).toEqual([{ group: 1 }, { name: 'v' }, { group: 1 }]);
    expect(literalOf(r.parts)).toBe('--$');
  });

  test('the JSON Schema pattern accepts exactly what the parser does', () => {
    const pattern = new RegExp(SEND_TEMPLATE_PATTERN, 'u');
    for (const text of ['a', '$', '$$', '${1}', 'cost $5', '${10}', '${', '${x}', '$${1}', 'x${}', '${a-b}', '$$$', '$ ${1}', '${1', `\${${'n'.repeat(33)}}`]) {
      expect([text, pattern.test(text)]).toEqual([text, parseSendTemplate(text).ok]);
    }
  });
});

describe('expandSend', () => {
  const captures: Captures = { groups: ['SSH-2.0-OpenSSH_6.9p1 Debian-2', 'OpenSSH_6.9p1', null], named: { v: 'x', gone: null } };
  const parts = (text: string): SendPart[] => {
    const r = parseSendTemplate(text);
    if (!r.ok) throw new Error(r.message);
    return r.parts;
  };

  test.each<[string, Captures | null, string]>([
    ['CONFIRM ${1}\n', captures, 'CONFIRM OpenSSH_6.9p1\n'],
    ['${0}', captures, 'SSH-2.0-OpenSSH_6.9p1 Debian-2'],
    ['[${2}]', captures, '[]'], // a group that did not take part
    ['[${5}]', captures, '[]'], // not captured at all (validation refuses it; a run still sends)
    ['${v}/${gone}/${nope}', captures, 'x//'],
    ['$$${1}', captures, '$OpenSSH_6.9p1'],
    ['PONG ${1}', null, 'PONG '],
  ])('%j', (text, c, sent) => {
    expect(expandSend(parts(text), c, 4096)).toEqual({ ok: true, text: sent });
  });

  test('the bound applies to the result: exactly max passes, one more does not, and the result is not built past it', () => {
    const long: Captures = { groups: ['', 'y'.repeat(4090)], named: {} };
    expect(expandSend(parts('12345${1}6'), long, 4096)).toEqual({ ok: true, text: `12345${'y'.repeat(4090)}6` });
    expect(expandSend(parts('12345${1}67'), long, 4096)).toEqual({ ok: false, length: 4097 });
    expect(expandSend(parts('${1}${1}${1}'), long, 4096)).toEqual({ ok: false, length: 8180 });
  });
});
