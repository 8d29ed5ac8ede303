// What a webhook receives: the body of one notification, rendered from the event. Pure.
//
//   format "json", no template: the event as JSON (NotifyEvent, the README's default body);
//   format "json" with a template: the template with each {{placeholder}} replaced by the value
//     JSON-escaped (no quotes added: write "{{check}}" inside a JSON string). Placeholders:
//     PLACEHOLDERS below and {{labels.<name>}} (empty when the check has no such label). Nothing is
//     evaluated; a value is cut to VALUE_MAX characters, a template holds at most MAX_PLACEHOLDERS,
//     so the output is bounded. A template must render to valid JSON (checked at put time with
//     hostile sample values: templateProblem);
//   format "slack": a Slack incoming-webhook payload {"text", "blocks"} (mrkdwn, & < > escaped).

import type { NotifyFormat } from './notifier';

/** One notification: a verdict change, or a reminder that a check is still down. */
export interface NotifyEvent {
  notifier: string;
  /** `<notifier>:<check>:<epoch>:<seq>`, the Lookout-Delivery header (one per transition per notifier). */
  delivery: string;
  kind: 'transition' | 'reminder';
  /** Reminder number (1, 2, …), null for a transition. */
  reminder: number | null;
  check: string;
  from: string;
  to: string;
  /** When the verdict changed (the status message's `at`). */
  at: string;
  node: string | null;
  reason: string | null;
  message: string | null;
  epoch: number;
  seq: number;
  labels: Record<string, string>;
}

export const PLACEHOLDERS = ['check', 'from', 'to', 'reason', 'message', 'at', 'node', 'notifier', 'kind', 'delivery', 'reminder', 'text'] as const;
/** Characters of one substituted value (before escaping). */
export const VALUE_MAX = 512;
export const MAX_PLACEHOLDERS = 32;

const TOKEN = /\{\{\s*([A-Za-z0-9_.-]{1,80})\s*\}\}/g;

/** A one-line summary: "api is DOWN (was up): status — expected 2xx, got 503". */
export function summaryOf(e: NotifyEvent): string {
  const why = e.to !== 'up' && (e.reason || e.message) ? `: ${[e.reason, e.message].filter(Boolean).join(' — ')}` : '';
  if (e.kind === 'reminder') return `reminder ${e.reminder}: ${e.check} is still ${e.to.toUpperCase()} (since ${e.at})${why}`;
  return `${e.check} is ${e.to.toUpperCase()} (was ${e.from})${why}`;
}

function valueOf(e: NotifyEvent, name: string): string | undefined {
  if (name.startsWith('labels.')) return e.labels[name.slice('labels.'.length)] ?? '';
  switch (name as (typeof PLACEHOLDERS)[number]) {
    case 'text':
      return summaryOf(e);
    case 'reminder':
      return e.reminder === null ? '' : String(e.reminder);
    case 'check':
    case 'from':
    case 'to':
    case 'at':
    case 'notifier':
    case 'kind':
    case 'delivery':
      return e[name as 'check'];
    case 'reason':
    case 'message':
    case 'node':
      return e[name as 'reason'] ?? '';
    default:
      return undefined;
  }
}

/** JSON string content (no quotes) of `v`, cut to VALUE_MAX characters first. */
function escapeJson(v: string): string {
  return JSON.stringify(v.length > VALUE_MAX ? v.slice(0, VALUE_MAX) : v).slice(1, -1);
}

export function renderTemplate(template: string, e: NotifyEvent): string {
  return template.replace(TOKEN, (whole, name: string) => {
    const v = valueOf(e, name);
    return v === undefined ? whole : escapeJson(v);
  });
}

/** Slack's mrkdwn control characters. */
function escapeSlack(v: string): string {
  return (v.length > VALUE_MAX ? v.slice(0, VALUE_MAX) : v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackPayload(e: NotifyEvent): { text: string; blocks: unknown[] } {
  const icon = e.to === 'down' ? ':red_circle:' : e.to === 'up' ? ':large_green_circle:' : ':large_yellow_circle:';
  const head = e.kind === 'reminder' ? `*${escapeSlack(e.check)}* is still *${e.to.toUpperCase()}* (reminder ${e.reminder}, since ${escapeSlack(e.at)})` : `*${escapeSlack(e.check)}* is *${e.to.toUpperCase()}* (was ${escapeSlack(e.from)})`;
  const why = e.to !== 'up' && (e.reason || e.message) ? `\n>${escapeSlack([e.reason, e.message].filter(Boolean).join(' — '))}` : '';
  return {
    text: `${icon} ${escapeSlack(summaryOf(e))}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${icon} ${head}${why}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(`notifier ${e.notifier} · node ${e.node ?? '-'} · ${e.at} · ${e.delivery}`) }] },
    ],
  };
}

/** The request body of one call. */
export function renderBody(format: NotifyFormat, template: string | null, e: NotifyEvent): string {
  switch (format) {
    case 'slack':
      return JSON.stringify(slackPayload(e));
    case 'json':
      return template === null ? JSON.stringify(e) : renderTemplate(template, e);
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

/** Values no template may turn into invalid JSON. */
const HOSTILE = '"quoted" \\back\\slash\nnew line\t</script>{{check}}\u2028';
const SAMPLE: NotifyEvent = {
  notifier: HOSTILE, delivery: HOSTILE, kind: 'transition', reminder: 1, check: HOSTILE, from: HOSTILE, to: HOSTILE, at: HOSTILE,
  node: HOSTILE, reason: HOSTILE, message: HOSTILE, epoch: 1, seq: 1, labels: new Proxy({}, { get: () => HOSTILE }) as Record<string, string>,
};

/** Why `template` cannot be a body template (an unknown placeholder, too many, not JSON once rendered), or undefined. */
export function templateProblem(template: string): string | undefined {
  let count = 0;
  for (const m of template.matchAll(TOKEN)) {
    const name = m[1]!;
    if (++count > MAX_PLACEHOLDERS) return `at most ${MAX_PLACEHOLDERS} placeholders are allowed`;
    if (!name.startsWith('labels.') && !(PLACEHOLDERS as readonly string[]).includes(name)) return `unknown placeholder {{${name}}} (known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}, {{labels.<name>}})`;
    if (name.startsWith('labels.') && name.length === 'labels.'.length) return 'a {{labels.<name>}} placeholder needs a label name';
  }
  try {
    JSON.parse(renderTemplate(template, SAMPLE));
  } catch (e) {
    return `it does not render to JSON (put placeholders inside JSON strings, e.g. "{{check}}"): ${(e as Error).message}`;
  }
  return undefined;
}
