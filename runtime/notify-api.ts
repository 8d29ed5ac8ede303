// The notifier API, served by every node with LOOKOUT_NOTIFY=on in one queue group (each request is
// answered by one node), like the spec API:
//
//   <prefix>.notify.put.<id>     a notifier document → {ok, id, revision} | {ok: false, error: {code, message, path}}
//   <prefix>.notify.delete.<id>  → {ok, id, existed}
//   <prefix>.notify.get.<id>     → {ok, id, revision, notifier} (the document: URL and headers included)
//   <prefix>.notify.list         {after?, limit?} → {ok, notifiers: [summary], next, total}: no URLs,
//                                headers or templates; each notifier's silences and the window open now
//
// Nothing is stored unless the whole document is valid (protocol/notifier-validate.ts) and its URL's
// literal address is allowed by the answering node's address policy (a host name is judged at each
// call, on what it resolves to: runtime/webhook.ts). At most NOTIFY_API_IN_FLIGHT requests at once.

import { decideTarget, showEndpoint, targetEndpoint, type AddressPolicy } from '../checks/address-policy';
import { SpecErrorCode } from '../checks/spec-error';
import { decodeNotifierPayload, NOTIFIER_ID } from '../protocol/notifier-validate';
import { notifierSummary, parseListQuery } from '../protocol/notifier-summary';
import type { Bus, BusMsg } from './bus';
import type { Clock } from './clock';
import type { Logger } from './logger';
import type { NotifierCache, NotifierStore } from './notifier-store';
import type { NotifyOp, Subjects } from './subjects';

export const notifyApiQueue = (s: Subjects) => `${s.prefix}-notify-api`;
export const NOTIFY_API_IN_FLIGHT = 16;

export interface NotifyApiOptions {
  bus: Bus;
  subjects: Subjects;
  store: NotifierStore;
  cache: NotifierCache;
  policy: AddressPolicy;
  maxNotifiers: number;
  clock: Clock;
  log: Logger;
  /** Counts each answer (op, ok or the error code). */
  onAnswer?(op: string, outcome: string): void;
}

type Reply = Record<string, unknown> & { ok: boolean };
const fail = (code: string, message: string, path = ''): Reply => ({ ok: false, error: { code, message, path } });

function unavailable(err: unknown): Reply {
  if ((err as { code?: string }).code === 'storage_full') return fail(SpecErrorCode.storage_full, `${(err as Error).message}; nothing was changed`);
  return fail(SpecErrorCode.unavailable, `notifier store unavailable: ${(err as Error)?.message ?? String(err)}; nothing was changed`);
}

export function startNotifyApi(o: NotifyApiOptions): () => void {
  const s = o.subjects;
  const log = o.log;
  let inFlight = 0;

  const put = async (id: string, payload: Uint8Array): Promise<Reply> => {
    const v = decodeNotifierPayload(payload, id, o.clock.now());
    if (!v.ok) return { ok: false, error: v.error };
    const decision = decideTarget(o.policy, 'http', v.notifier.webhook.url);
    if (decision?.denied) {
      const where = showEndpoint(decision.address, targetEndpoint('http', v.notifier.webhook.url)!.port);
      return fail(SpecErrorCode.denied, `webhook ${where} is denied by this node's address policy: ${decision.rule}`, 'webhook.url');
    }
    if (o.cache.size() >= o.maxNotifiers && !o.cache.raw(id) && !(await o.store.get(id))) {
      return fail(SpecErrorCode.limit, `the cluster stores ${o.cache.size()} notifiers, the most LOOKOUT_MAX_NOTIFIERS (${o.maxNotifiers}) allows; nothing was changed`, 'id');
    }
    const revision = await o.store.put(id, v.notifier);
    log.info({ event: 'notifier_changed', op: 'put', notifier: id, revision }, 'notifier stored');
    return { ok: true, id, revision };
  };

  const del = async (id: string): Promise<Reply> => {
    const existed = await o.store.delete(id);
    if (existed) log.info({ event: 'notifier_changed', op: 'delete', notifier: id }, 'notifier deleted');
    return { ok: true, id, existed };
  };

  const get = async (id: string): Promise<Reply> => {
    const stored = await o.store.get(id);
    if (!stored) return fail(SpecErrorCode.not_found, `no notifier with id ${id}`, 'id');
    return { ok: true, id, revision: stored.revision, notifier: stored.notifier };
  };

  const list = (payload: Uint8Array): Reply => {
    const q = parseListQuery(payload);
    if (!q.ok) return { ok: false, error: q.error };
    const now = o.clock.now();
    const ids = o.cache.all().map((n) => n.id).sort();
    const from = q.after === null ? 0 : ids.findIndex((id) => id > q.after!);
    const page = from < 0 ? [] : ids.slice(from, from + q.limit);
    const notifiers = page.flatMap((id) => {
      const raw = o.cache.raw(id);
      return raw ? [notifierSummary(id, raw.revision, raw.notifier, now)] : [];
    });
    const next = from >= 0 && from + q.limit < ids.length ? page.at(-1)! : null;
    return { ok: true, notifiers, next, total: ids.length };
  };

  const answer = (m: BusMsg, op: string, work: () => Promise<Reply> | Reply) => {
    if (inFlight >= NOTIFY_API_IN_FLIGHT) return m.respond({ ...fail(SpecErrorCode.unavailable, `this node is answering ${inFlight} notifier requests; try again`), retryAfterMs: 200 });
    inFlight++;
    Promise.resolve()
      .then(work)
      .catch((err: unknown) => {
        log.warn({ event: 'notifier_request_failed', subject: m.subject, err }, 'notifier request failed');
        return unavailable(err);
      })
      .then((r) => {
        o.onAnswer?.(op, r.ok ? 'ok' : String((r.error as { code?: unknown })?.code));
        if (!r.ok) log.debug({ event: 'notifier_request_rejected', op, subject: m.subject, error: r.error }, 'notifier request rejected');
        m.respond(r);
      })
      .finally(() => inFlight--);
  };

  const byId = (op: NotifyOp, work: (id: string, m: BusMsg) => Promise<Reply>) => (m: BusMsg) => {
    const id = m.subject.slice(`${s.prefix}.notify.${op}.`.length);
    if (!NOTIFIER_ID.test(id)) return answer(m, op, () => fail(SpecErrorCode.invalid_id, `notifier id must match ${NOTIFIER_ID.source}`, 'id'));
    answer(m, op, () => work(id, m));
  };

  const queue = notifyApiQueue(s);
  const onError = (err: unknown) => log.error({ event: 'notifier_subscription_failed', err }, 'notifier API subscription error');
  const subs = [
    o.bus.subscribe(s.notifyOpWildcard('put'), byId('put', (id, m) => put(id, m.data)), { queue, onError }),
    o.bus.subscribe(s.notifyOpWildcard('delete'), byId('delete', (id) => del(id)), { queue, onError }),
    o.bus.subscribe(s.notifyOpWildcard('get'), byId('get', (id) => get(id)), { queue, onError }),
    o.bus.subscribe(s.notifyList(), (m) => answer(m, 'list', () => list(m.data)), { queue, onError }),
  ];
  log.info({ event: 'notify_api_serving', queue }, 'notifier API serving');
  return () => subs.forEach((off) => off());
}
