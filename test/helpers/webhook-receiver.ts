// A real webhook receiver for notification tests: an HTTP server on 127.0.0.1 (port 0) that logs
// every call (headers, parsed body, arrival order) and answers as the test says — per call
// number, so "fail the first two, then succeed" or "hang the third" are one function. Nothing
// sleeps: a hung call is held until the connection closes (the caller died) or close().

import http from 'node:http';

export interface ReceivedCall {
  /** 1, 2, … in arrival order. */
  n: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed (undefined when it is not JSON). */
  json: any;
  delivery: string;
  attempt: number;
}

/** How call `n` is answered: a status code, or 'hang' (no answer until the caller goes away). */
export type Answer = number | 'hang';

export interface WebhookReceiver {
  url: string;
  calls: ReceivedCall[];
  /** Calls of one delivery (by Lookout-Delivery), in arrival order. */
  callsOf(delivery: string): ReceivedCall[];
  /** Set how calls are answered from now on (default: 200). */
  answer(f: (call: ReceivedCall) => Answer): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(host = '127.0.0.1'): Promise<WebhookReceiver> {
  const calls: ReceivedCall[] = [];
  let answer: (call: ReceivedCall) => Answer = () => 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const call: ReceivedCall = {
        n: calls.length + 1,
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        delivery: String(req.headers['lookout-delivery'] ?? ''),
        attempt: Number(req.headers['lookout-attempt'] ?? 0),
      };
      calls.push(call);
      const a = answer(call);
      if (a === 'hang') return;
      res.writeHead(a, { 'content-type': 'text/plain' });
      res.end(a >= 200 && a < 300 ? 'ok' : `failing on purpose (${a})`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}`,
    calls,
    callsOf: (delivery) => calls.filter((c) => c.delivery === delivery),
    answer: (f) => (answer = f),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
