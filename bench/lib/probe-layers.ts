// The HTTP layers bench/http-layers.ts compares: one GET per call, a fresh TCP connection per call
// (a health check tests connect), resolving true when the answer was 200.
//   undici-client      new undici Client + request() + destroy of body and client: what
//                      checks/http-probe.ts does for a fresh-connection probe (without its connector,
//                      deadline and body assertions), stack capture off around the teardown as there
//   undici-dispatch    new undici Client + client.dispatch() with a bare handler (no body stream,
//                      no request/response objects) + destroy
//   undici-pool-reset  one shared undici Pool, request({ reset: true }): undici's own objects reused,
//                      the connection still closed after each request (a new one per probe)
//   node-http          Node's http.request({ agent: false }) (Connection: close), response drained
//   raw-net            net.connect + "GET / HTTP/1.1" + the status line read + destroy
// Publish modes, appended to a layer's name:
//   +pub               a JSON result (the size of a Lookout result) published to NATS per probe
//   +batch             results published as one JSON array per BATCH_MS

import http from 'node:http';
import net from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { Client, Pool, type Dispatcher } from 'undici';

export type Probe = () => Promise<boolean>;

export interface Target {
  host: string;
  port: number;
  path: string;
}

export const LAYERS = ['undici-client', 'undici-dispatch', 'undici-pool-reset', 'node-http', 'raw-net'] as const;
export type Layer = (typeof LAYERS)[number];

const noop = (): void => {};
const TIMERS_OFF = { headersTimeout: 0, bodyTimeout: 0 } as const;

function withoutStacks(fn: () => void): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function undiciClient(t: Target): Probe {
  const origin = `http://${t.host}:${t.port}`;
  return async () => {
    const client = new Client(origin, TIMERS_OFF);
    const ac = new AbortController();
    try {
      const res = await client.request({ path: t.path, method: 'GET', signal: ac.signal });
      res.body.on('error', noop);
      withoutStacks(() => res.body.destroy());
      return res.statusCode === 200;
    } finally {
      withoutStacks(() => void client.destroy().catch(noop));
    }
  };
}

function undiciDispatch(t: Target): Probe {
  const origin = `http://${t.host}:${t.port}`;
  const opts: Dispatcher.DispatchOptions = { origin, path: t.path, method: 'GET' };
  return () =>
    new Promise<boolean>((resolve) => {
      const client = new Client(origin, TIMERS_OFF);
      let status = 0;
      const end = (ok: boolean) => {
        resolve(ok);
        withoutStacks(() => void client.destroy().catch(noop));
      };
      client.dispatch(opts, {
        onRequestStart: noop, // its presence selects undici's new handler API
        onResponseStart: (_c, code) => void (status = code),
        onResponseData: noop,
        onResponseEnd: () => end(status === 200),
        onResponseError: () => end(false),
      });
    });
}

function undiciPoolReset(t: Target): Probe {
  const pool = new Pool(`http://${t.host}:${t.port}`, { ...TIMERS_OFF, connections: 256 });
  return async () => {
    const res = await pool.request({ path: t.path, method: 'GET', reset: true });
    await res.body.dump();
    return res.statusCode === 200;
  };
}

function nodeHttp(t: Target): Probe {
  const opts: http.RequestOptions = { host: t.host, port: t.port, path: t.path, agent: false };
  return () =>
    new Promise<boolean>((resolve) => {
      const req = http.request(opts, (res) => {
        const ok = res.statusCode === 200;
        res.on('end', () => resolve(ok));
        res.on('error', () => resolve(false));
        res.resume();
      });
      req.on('error', () => resolve(false));
      req.end();
    });
}

function rawNet(t: Target): Probe {
  const request = Buffer.from(`GET ${t.path} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nConnection: close\r\n\r\n`, 'latin1');
  return () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(t.port, t.host);
      let head = '';
      s.on('connect', () => s.write(request));
      s.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        const eol = head.indexOf('\r\n');
        if (eol < 0) return;
        resolve(/^HTTP\/1\.[01] 200 /.test(head.slice(0, eol + 1)));
        s.destroy();
      });
      s.on('error', () => resolve(false));
      s.on('close', () => resolve(false)); // no-op once resolved
    });
}

export function makeProbe(layer: Layer, t: Target): Probe {
  switch (layer) {
    case 'undici-client':
      return undiciClient(t);
    case 'undici-dispatch':
      return undiciDispatch(t);
    case 'undici-pool-reset':
      return undiciPoolReset(t);
    case 'node-http':
      return nodeHttp(t);
    case 'raw-net':
      return rawNet(t);
  }
}

/** A result about the size and shape of what a Lookout node publishes per probe. */
export function resultOf(i: number, ok: boolean, startedAt: number, latencyMs: number): Record<string, unknown> {
  return { checkId: `c${String(i % 100000).padStart(6, '0')}`, node: 'bench-layers', epoch: 1, seq: i, slot: Math.floor(startedAt / 1000), at: new Date(startedAt).toISOString(), ok, latencyMs, kind: 'http', httpStatus: ok ? 200 : 0 };
}

export type PublishMode = 'none' | 'pub' | 'batch';

/** Wrap a probe so each result is published (per probe, or batched every `batchMs`); returns the wrapped probe and a stop. */
export function publishing(probe: Probe, mode: PublishMode, nc: NatsConnection | null, batchMs: number): { probe: Probe; stop(): void } {
  if (mode === 'none' || !nc) return { probe, stop: noop };
  let seq = 0;
  if (mode === 'pub') {
    return {
      probe: async () => {
        const t0 = Date.now();
        const ok = await probe();
        const r = resultOf(seq++, ok, t0, Date.now() - t0);
        nc.publish(`bench.result.${r.checkId as string}`, JSON.stringify(r));
        return ok;
      },
      stop: noop,
    };
  }
  let batch: string[] = [];
  const timer = setInterval(() => {
    if (batch.length === 0) return;
    nc.publish('bench.results', `[${batch.join(',')}]`);
    batch = [];
  }, batchMs);
  return {
    probe: async () => {
      const t0 = Date.now();
      const ok = await probe();
      batch.push(JSON.stringify(resultOf(seq++, ok, t0, Date.now() - t0)));
      return ok;
    },
    stop: () => clearInterval(timer),
  };
}
