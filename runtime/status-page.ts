// The status page (LOOKOUT_STATUS_PAGE, on by default): a read-only web page at `/` on the HTTP
// port of /metrics, mounted on runtime/http-endpoints.ts once the node has its NATS connection.
//
//   /, /view.js, /status.js, /notifiers.js, /status.css
//                                  the page: web/ of the package (plain HTML, three scripts, one sheet)
//   /vendor/uPlot.iife.min.js, /vendor/uPlot.min.css
//                                  uPlot, the chart library, from node_modules (no CDN)
//   /api/cluster, /api/checks, /api/checks/<id>, /api/notifiers
//                                  JSON from the cluster over NATS (runtime/status-api.ts)
//   /api/events                    live updates, Server-Sent Events (runtime/status-events.ts)
//
// Every answer carries a strict Content-Security-Policy (scripts, styles and data from this origin
// only; no inline script or style, no frames, no forms) and X-Content-Type-Options: nosniff. The page
// renders every value with textContent. GET and HEAD only (the endpoints refuse other methods).

import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import type { Bus } from './bus';
import type { Clock } from './clock';
import type { HttpRoute } from './http-endpoints';
import type { Logger } from './logger';
import { apiError, statusApi, type ApiAnswer } from './status-api';
import { startStatusEvents, type StatusEventsOptions } from './status-events';
import type { Subjects } from './subjects';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

interface StaticFile {
  type: string;
  body: Buffer;
}

/** The page's own files: `web/` beside the sources (tests) or beside `dist/` (the built package). */
export function findWebDir(): string | null {
  for (const dir of [path.join(__dirname, '..', 'web'), path.join(__dirname, '..', '..', 'web')]) if (existsSync(path.join(dir, 'index.html'))) return dir;
  return null;
}

/** Every file the page serves, read once at start; a missing one is left out (and logged). */
function loadFiles(log: Logger): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const web = findWebDir();
  const wanted: [string, () => string, string][] = [
    ['/', () => path.join(web!, 'index.html'), 'text/html; charset=utf-8'],
    ['/view.js', () => path.join(web!, 'view.js'), 'text/javascript; charset=utf-8'],
    ['/status.js', () => path.join(web!, 'status.js'), 'text/javascript; charset=utf-8'],
    ['/status.css', () => path.join(web!, 'status.css'), 'text/css; charset=utf-8'],
    ['/notifiers.js', () => path.join(web!, 'notifiers.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.iife.min.js', () => require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.min.css', () => require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  for (const [route, file, type] of wanted) {
    try {
      if (!web && !route.startsWith('/vendor/')) throw new Error('no web/ folder beside the code');
      files.set(route, { type, body: readFileSync(file()) });
    } catch (err) {
      log.error({ event: 'status_page_file_missing', route, err }, 'a file of the status page is missing from the package: that path answers 404');
    }
  }
  files.set('/index.html', files.get('/')!);
  if (!files.get('/')) files.delete('/index.html');
  return files;
}

export interface StatusPageOptions {
  bus: Bus;
  subjects: Subjects;
  clock: Clock;
  log: Logger;
  /** Bounds and timers of the live updates (defaults in runtime/status-events.ts). */
  events?: Pick<StatusEventsOptions, 'maxClients' | 'maxBufferedBytes' | 'pingMs' | 'onClients' | 'onDropped'>;
  apiTimeoutMs?: number;
}

export interface StatusPage {
  route: HttpRoute;
  stop(): void;
}

function sendJson(res: ServerResponse, a: ApiAnswer, extra: Record<string, string> = {}): void {
  res.writeHead(a.status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(JSON.stringify(a.body));
}

export function startStatusPage(o: StatusPageOptions): StatusPage {
  const files = loadFiles(o.log);
  const api = statusApi({ bus: o.bus, subjects: o.subjects, log: o.log, ...(o.apiTimeoutMs ? { timeoutMs: o.apiTimeoutMs } : {}) });
  const events = startStatusEvents({ bus: o.bus, subjects: o.subjects, clock: o.clock, log: o.log, ...o.events });
  o.log.info({ event: 'status_page_started', files: files.size }, 'status page at / (LOOKOUT_STATUS_PAGE=off turns it off)');

  const answer = (res: ServerResponse, work: Promise<ApiAnswer>) =>
    void work.then(
      (a) => sendJson(res, a),
      (err: unknown) => {
        o.log.error({ event: 'status_api_failed', err }, 'status page API failed');
        sendJson(res, apiError('internal', 'the status API failed'));
      },
    );

  const route: HttpRoute = (req, res, p) => {
    const file = files.get(p);
    if (file) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache', 'content-length': String(file.body.length) });
      res.end(file.body);
      return true;
    }
    if (!p.startsWith('/api/')) return false;
    const query = (req.url ?? '').slice(p.length + 1);
    if (p === '/api/cluster') answer(res, api.cluster());
    else if (p === '/api/checks') answer(res, api.checks(query));
    else if (p.startsWith('/api/checks/')) answer(res, api.check(p.slice('/api/checks/'.length)));
    else if (p === '/api/notifiers') answer(res, api.notifiers());
    else if (p === '/api/events') {
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.end();
        return true;
      }
      if (!events.accepting()) {
        sendJson(res, apiError('unavailable', 'too many live clients on this node: try again later'), { 'retry-after': '10' });
        return true;
      }
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      events.add(res);
    } else sendJson(res, apiError('not_found', 'no such API path: /api/cluster, /api/checks, /api/checks/<id>, /api/notifiers, /api/events'));
    return true;
  };

  return { route, stop: () => events.stop() };
}
