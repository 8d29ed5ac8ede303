// One NATS server's monitoring pages as the compose expectations read them (natsClusterFormed):
// the status of /healthz, and /varz, /jsz, /routez as JSON. Shared by the compose run
// (testkit/compose/check.ts) and the compose-file test that runs the same command lines locally.

import type { NatsServerView } from './expectations';

export async function readNatsView(service: string, monitorPort: number, timeoutMs = 5000): Promise<NatsServerView> {
  const get = (path: string) => fetch(`http://127.0.0.1:${monitorPort}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  const [healthz, varz, jsz, routez] = await Promise.all(['/healthz', '/varz', '/jsz', '/routez'].map(get));
  await healthz!.text();
  const [v, j, r] = (await Promise.all([varz!.json(), jsz!.json(), routez!.json()])) as [NatsServerView['varz'], NatsServerView['jsz'], NatsServerView['routez']];
  return { service, healthz: healthz!.status, varz: v, jsz: j, routez: r };
}
