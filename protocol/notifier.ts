// A notifier document (`<prefix>.notify.put.<id>`, issue 14 §3): which verdict changes become
// webhook calls, how they are sent, retried, repeated while a check stays down, and when they are
// silenced. Validated by protocol/notifier-validate.ts (every field bounded: a document is hostile
// input), stored in the bucket `<prefix>_notifiers` (runtime/notifier-store.ts).
//
//   {
//     "match":   {"ids": ["api-*"], "labels": {"team": "payments"}},   // absent: every check
//     "on":      ["down", "up"],                                        // default: both
//     "webhook": {"url": "http://127.0.0.1:9000/hook", "format": "json" | "slack",
//                 "template": "{\"text\":\"{{check}} is {{to}}\"}", "headers": {...}, "timeoutMs": 5000},
//     "retry":   {"attempts": 5, "backoffMs": 1000, "maxBackoffMs": 300000},
//     "remindEveryMs": 3600000,
//     "silences": [{"cron": "0 2 * * SUN", "durationMs": 7200000, "timezone": "Europe/Berlin", "comment": "patching"}]
//   }

export const NotifyFormat = { json: 'json', slack: 'slack' } as const;
export type NotifyFormat = (typeof NotifyFormat)[keyof typeof NotifyFormat];

/**
 * The verdict changes a notifier can be told of: changes to these published verdicts
 * (protocol/published-verdict.ts). A notifier without `degraded` reads degraded as up (notify-match.ts).
 */
export const NOTIFY_ON = ['down', 'up', 'degraded', 'flapping'] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

export interface NotifierMatch {
  /** Globs on the check id (`*` any run of characters, `?` one); absent: every id. */
  ids?: string[];
  /** Every label must equal the check spec's label; absent: any labels. */
  labels?: Record<string, string>;
}

export interface NotifierWebhook {
  url: string;
  format?: NotifyFormat;
  /** format json only: the body, with {{placeholders}} (protocol/notify-render.ts). */
  template?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface NotifierRetry {
  /** Calls per delivery, the first included. */
  attempts?: number;
  /** Wait after the first failed call; doubled after each further one. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface Silence {
  /** croner pattern: when a window starts (5, 6 or 7 fields). */
  cron: string;
  durationMs: number;
  /** IANA time zone the pattern is read in; default UTC. */
  timezone?: string;
  comment?: string;
}

export interface Notifier {
  id?: string;
  match?: NotifierMatch;
  on?: NotifyOn[];
  webhook: NotifierWebhook;
  retry?: NotifierRetry;
  remindEveryMs?: number;
  silences?: Silence[];
}

/** A notifier with every default filled in: what delivery reads. */
export interface NormalizedNotifier {
  id: string;
  match: { ids: string[] | null; labels: Record<string, string> };
  on: NotifyOn[];
  webhook: { url: string; format: NotifyFormat; template: string | null; headers: Record<string, string>; timeoutMs: number };
  retry: { attempts: number; backoffMs: number; maxBackoffMs: number };
  remindEveryMs: number | null;
  silences: Silence[];
}

/** Defaults of the optional fields. */
export const NOTIFIER_DEFAULTS = {
  on: ['down', 'up'] as NotifyOn[],
  format: NotifyFormat.json,
  timeoutMs: 5_000,
  attempts: 5,
  backoffMs: 1_000,
  maxBackoffMs: 300_000,
  timezone: 'UTC',
} as const;

/** Every bound a document is held to (the README's notifier reference). */
export const NOTIFIER_LIMITS = {
  /** The whole document, as bytes on the wire. */
  maxBytes: 64 * 1024,
  urlLength: 2048,
  idGlobs: 32,
  globLength: 128,
  labels: 16,
  labelValueLength: 256,
  headers: 16,
  headerValueLength: 1024,
  templateLength: 8 * 1024,
  timeoutMs: { min: 100, max: 60_000 },
  attempts: { min: 1, max: 20 },
  backoffMs: { min: 100, max: 3_600_000 },
  maxBackoffMs: { min: 100, max: 86_400_000 },
  remindEveryMs: { min: 1_000, max: 7 * 86_400_000 },
  silences: 16,
  cronLength: 128,
  silenceDurationMs: { min: 1_000, max: 31 * 86_400_000 },
  timezoneLength: 64,
  commentLength: 256,
} as const;

/** Headers Lookout sets on every call; a notifier may not set them (any case). */
export const NOTIFY_MANAGED_HEADERS = ['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'lookout-delivery', 'lookout-attempt'] as const;

/** Fill in the defaults of a validated document. */
export function normalizeNotifier(id: string, n: Notifier): NormalizedNotifier {
  const d = NOTIFIER_DEFAULTS;
  return {
    id,
    match: { ids: n.match?.ids ?? null, labels: n.match?.labels ?? {} },
    on: n.on ?? [...d.on],
    webhook: {
      url: n.webhook.url,
      format: n.webhook.format ?? d.format,
      template: n.webhook.template ?? null,
      headers: n.webhook.headers ?? {},
      timeoutMs: n.webhook.timeoutMs ?? d.timeoutMs,
    },
    retry: {
      attempts: n.retry?.attempts ?? d.attempts,
      backoffMs: n.retry?.backoffMs ?? d.backoffMs,
      maxBackoffMs: n.retry?.maxBackoffMs ?? Math.max(d.maxBackoffMs, n.retry?.backoffMs ?? 0),
    },
    remindEveryMs: n.remindEveryMs ?? null,
    silences: n.silences ?? [],
  };
}
