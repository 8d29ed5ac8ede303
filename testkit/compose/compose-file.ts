// What the compose run needs to know of docker-compose.yml, read from the file itself: the NATS
// services with their cluster name and published host-port variables, the Lookout node ids, the
// host-port variables with their defaults, and the seed's DEMO_URL. Nothing is hard-coded here, so
// the run checks the file as it is.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** `${NAME:-default}`: the only interpolation docker-compose.yml uses (host ports). */
export const HOST_PORT_VARIABLE = /^\$\{([A-Z][A-Z0-9_]*):-(\d+)\}$/;

export interface HostPortVariable {
  name: string;
  default: number;
  service: string;
  /** The container port it publishes. */
  container: number;
}

export interface ComposeFacts {
  hostPorts: HostPortVariable[];
  /** NATS services (image nats:*), with their `--cluster_name` and the variables of their client and monitoring host ports. */
  nats: { service: string; clusterName: string; clientVar: string; monitorVar: string }[];
  /** LOOKOUT_NODE_ID of every service that runs `node`. */
  nodeIds: string[];
  /** The seed service's DEMO_URL (the demo target as the nodes reach it). */
  demoUrl: string;
}

type Json = any;

/** A `127.0.0.1:${NAME:-4222}:4222` port entry, split; undefined for any other form. */
export function hostPortEntry(entry: string): { name: string; default: number; container: number } | undefined {
  const m = /^127\.0\.0\.1:(\$\{[^}]*\}):(\d+)$/.exec(entry);
  const v = m ? HOST_PORT_VARIABLE.exec(m[1]!) : null;
  return m && v ? { name: v[1]!, default: Number(v[2]), container: Number(m[2]) } : undefined;
}

export function readComposeFacts(root: string): ComposeFacts {
  const doc: Json = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true, maxAliasCount: 100 });
  const services: Record<string, Json> = doc.services;
  const hostPorts: HostPortVariable[] = [];
  for (const [service, svc] of Object.entries(services)) {
    for (const p of (svc.ports ?? []) as string[]) {
      const e = hostPortEntry(String(p));
      if (!e) throw new Error(`docker-compose.yml: ${service} publishes ${String(p)}, not 127.0.0.1:\${NAME:-port}:port`);
      hostPorts.push({ ...e, service });
    }
  }
  const portVar = (service: string, container: number) => {
    const v = hostPorts.find((h) => h.service === service && h.container === container);
    if (!v) throw new Error(`docker-compose.yml: ${service} does not publish port ${container}`);
    return v.name;
  };
  const nats = Object.entries(services)
    .filter(([, svc]) => /^(docker\.io\/)?(library\/)?nats:/.test(String(svc.image ?? '')))
    .map(([service, svc]) => {
      const cmd: string[] = svc.command.map(String);
      const flag = (name: string) => cmd[cmd.indexOf(name) + 1]!;
      return { service, clusterName: flag('--cluster_name'), clientVar: portVar(service, 4222), monitorVar: portVar(service, Number(flag('--http_port'))) };
    });
  const nodeIds = Object.values(services)
    .filter((svc) => Array.isArray(svc.command) && svc.command[0] === 'node')
    .map((svc) => String(svc.environment.LOOKOUT_NODE_ID));
  const seed = Object.values(services).find((svc) => Array.isArray(svc.command) && svc.command[0] === 'spec');
  return { hostPorts, nats, nodeIds, demoUrl: String(seed?.environment?.DEMO_URL) };
}
