// What a webhook receives (protocol/notify-render.ts): the default JSON body, templates (escaping,
// labels, bounds, no re-expansion), the Slack payload, and which templates are refused.
import { MAX_PLACEHOLDERS, renderBody, renderTemplate, slackPayload, summaryOf, templateProblem, VALUE_MAX, type NotifyEvent } from '../../protocol/notify-render';

const event = (over: Partial<NotifyEvent> = {}): NotifyEvent => ({
  notifier: 'ops', delivery: 'ops:api:3:41', kind: 'transition', reminder: null, check: 'api', from: 'up', to: 'down', at: '2026-06-01T12:00:00.000Z',
  node: 'n1', reason: 'status', message: 'expected status 2xx, got 503', epoch: 3, seq: 41, labels: { team: 'payments' }, ...over,
});

test('the default body is the event as JSON', () => expect(JSON.parse(renderBody('json', null, event()))).toEqual(event()));

test.each([
  ['a down', event(), 'api is DOWN (was up): status — expected status 2xx, got 503'],
  ['a recovery', event({ from: 'down', to: 'up', reason: null, message: null }), 'api is UP (was down)'],
  ['a reminder', event({ kind: 'reminder', reminder: 2 }), 'reminder 2: api is still DOWN (since 2026-06-01T12:00:00.000Z): status — expected status 2xx, got 503'],
])('summary of %s', (_w, e, want) => expect(summaryOf(e)).toBe(want));

describe('templates', () => {
  test('placeholders are replaced, JSON-escaped, labels included', () => {
    const t = '{"check":"{{check}}","to":"{{ to }}","msg":"{{message}}","team":"{{labels.team}}","none":"{{labels.nope}}","n":"{{reminder}}","text":"{{text}}"}';
    const e = event({ message: 'a "quoted"\nline \\ </script>' });
    expect(JSON.parse(renderTemplate(t, e))).toEqual({ check: 'api', to: 'down', msg: e.message, team: 'payments', none: '', n: '', text: summaryOf(e) });
  });
  test('a value is not expanded again', () => expect(JSON.parse(renderTemplate('["{{message}}"]', event({ message: '{{check}}' })))).toEqual(['{{check}}']));
  test(`a value is cut to ${VALUE_MAX} characters`, () => expect(JSON.parse(renderTemplate('["{{message}}"]', event({ message: 'x'.repeat(10_000) })))[0]).toHaveLength(VALUE_MAX));
  test.each([
    ['valid', '{"t":"{{check}} {{labels.team}}"}', undefined],
    ['unknown placeholder', '{"t":"{{checkk}}"}', /unknown placeholder \{\{checkk\}\}/],
    ['outside a string', '{"t":{{check}}}', /does not render to JSON/],
    ['not JSON at all', 'hello {{check}}', /does not render to JSON/],
    ['too many', `[${Array(MAX_PLACEHOLDERS + 1).fill('"{{at}}"').join(',')}]`, /at most 32 placeholders/],
  ])('%s', (_w, t, want) => (want === undefined ? expect(templateProblem(t)).toBeUndefined() : expect(templateProblem(t)).toMatch(want)));
});

describe('slack', () => {
  test('text and blocks, mrkdwn escaped', () => {
    const p = slackPayload(event({ message: '<script> & <@here>' }));
    expect(p.text).toBe(':red_circle: api is DOWN (was up): status — &lt;script&gt; &amp; &lt;@here&gt;');
    expect(p.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: ':red_circle: *api* is *DOWN* (was up)\n>status — &lt;script&gt; &amp; &lt;@here&gt;' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'notifier ops · node n1 · 2026-06-01T12:00:00.000Z · ops:api:3:41' }] },
    ]);
  });
  test('a recovery and a reminder', () => {
    expect(slackPayload(event({ from: 'down', to: 'up', reason: null, message: null })).text).toBe(':large_green_circle: api is UP (was down)');
    expect((slackPayload(event({ kind: 'reminder', reminder: 1 })).blocks[0] as any).text.text).toMatch(/^:red_circle: \*api\* is still \*DOWN\* \(reminder 1, since/);
  });
  test('renderBody slack is the payload as JSON', () => expect(JSON.parse(renderBody('slack', null, event()))).toEqual(slackPayload(event())));
});
