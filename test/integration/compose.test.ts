// docker-compose.yml and the Dockerfile, checked without a Docker engine: every service's image,
// command, environment, ports, healthcheck and dependencies must point at things that exist in
// this repo and that the code accepts. Commands are run through the built CLI (`<command> --help`),
// environments through loadConfig, healthcheck scripts against the real /healthz handler, and the
// NATS command lines are started as a local 3-server cluster (hosts and ports remapped). The file
// run for real in Docker is test/compose/run.sh (`npm run test:compose`), outside Jest.
//
// Needs `npm run build` (dist/bin/lookout.js) and nats-server, like the other integration tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { Registry } from 'prom-client';
import { parseDocument } from 'yaml';
import { validateSpec } from '../../checks/validate';
import { loadConfig, SETTINGS, TIMING_PROFILES } from '../../runtime/config';
import { DEMO_DEFAULTS, parseDemoArgs, startDemoTarget } from '../../dev/demo-target';
import { startHttpEndpoints } from '../../runtime/http-endpoints';
import { freePort, natsServerBinary } from '../../testkit/nats-server';
import { hostPortEntry } from '../../testkit/compose/compose-file';
import { natsClusterFormed } from '../../testkit/compose/expectations';
import { readNatsView } from '../../testkit/compose/nats-view';
import { GiveUp, waitFor } from '../helpers/poll';
import { CLI } from '../helpers/processes';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

// ---------------------------------------------------------------------------------------------
// Dockerfile: a small parser (stages, WORKDIR, COPY, ...) — enough to map image paths to repo paths.

interface Instr {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  image: string;
  name: string | undefined;
  instrs: Instr[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      if (!/^\s*#/.test(lines[i]!)) line += lines[i]!;
    }
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile:${start}: cannot parse ${JSON.stringify(line)}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim().replace(/\s+/g, ' ');
    if (op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ image: f[1]!, name: f[2], instrs: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`Dockerfile:${start}: ${op} before FROM`);
    stages[stages.length - 1]!.instrs.push({ op, args, line: start });
  }
  return stages;
}

const execForm = (args: string): string[] | null => (args.startsWith('[') ? (JSON.parse(args) as string[]) : null);

interface CopyOp {
  from: string | undefined;
  sources: string[];
  /** Absolute destination in the image. */
  dest: string;
  /** Destination is a directory the sources go into (several sources or a trailing slash). */
  intoDir: boolean;
  /** WORKDIR in effect. */
  workdir: string;
  index: number;
}

function copies(stage: Stage): CopyOp[] {
  let workdir = '/';
  const out: CopyOp[] = [];
  stage.instrs.forEach((ins, index) => {
    if (ins.op === 'WORKDIR') workdir = posix.resolve(workdir, ins.args);
    if (ins.op !== 'COPY' && ins.op !== 'ADD') return;
    const words = execForm(ins.args) ?? ins.args.split(' ');
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    const rawDest = paths[paths.length - 1]!;
    const sources = paths.slice(0, -1);
    out.push({ from, sources, dest: posix.resolve(workdir, rawDest), intoDir: sources.length > 1 || rawDest.endsWith('/'), workdir, index });
  });
  return out;
}

function workdirOf(stage: Stage): string {
  let w = '/';
  for (const ins of stage.instrs) if (ins.op === 'WORKDIR') w = posix.resolve(w, ins.args);
  return w;
}

/** Which COPY of the build context puts `imagePath` into the stage, and the repo path it comes from. */
function contextSourceOf(stage: Stage, imagePath: string): { copy: CopyOp; repoPath: string } | undefined {
  for (const c of copies(stage).reverse()) {
    if (c.from) continue;
    for (const src of c.sources) {
      const dest = c.intoDir ? posix.join(c.dest, basename(src)) : c.dest;
      if (imagePath === dest || imagePath.startsWith(dest + '/')) return { copy: c, repoPath: posix.join(src, imagePath.slice(dest.length)) };
    }
  }
  return undefined;
}

/** .dockerignore patterns (root-relative, `*` within one path segment, `**` across segments, `!` re-includes). */
function dockerIgnored(path: string, patterns: string[]): boolean {
  const clean = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  let ignored = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const p = (neg ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
    const re = new RegExp(
      '^' +
        p
          .split('**')
          .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
          .join('.*') +
        '(/.*)?$',
    );
    if (re.test(clean)) ignored = !neg;
  }
  return ignored;
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

type Json = any;
const composeDoc = parseDocument(read('docker-compose.yml'), { merge: true, uniqueKeys: true });
const compose: Json = composeDoc.toJS({ maxAliasCount: 100 });
const services: Record<string, Json> = compose.services ?? {};
const serviceNames = Object.keys(services);

const dockerfileText = read('Dockerfile');
const stages = parseDockerfile(dockerfileText);
const finalStage = stages[stages.length - 1]!;
const finalOps = (op: string) => finalStage.instrs.filter((i) => i.op === op);
const lastFinal = (op: string) => finalOps(op).at(-1);
const dockerignore = existsSync(join(ROOT, '.dockerignore'))
  ? read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
  : [];

/** Services built from this repo's Dockerfile, and those reusing the image tag such a build produces. */
const builtTags = new Set<string>();
function buildOf(svc: Json): { context: string; dockerfile: string } | undefined {
  if (svc.build === undefined) return undefined;
  return typeof svc.build === 'string' ? { context: svc.build, dockerfile: 'Dockerfile' } : { context: svc.build.context ?? '.', dockerfile: svc.build.dockerfile ?? 'Dockerfile' };
}
for (const svc of Object.values(services)) {
  const b = buildOf(svc);
  if (b && join(ROOT, b.context, b.dockerfile) === join(ROOT, 'Dockerfile') && svc.image) builtTags.add(svc.image);
}
const isLookout = (name: string): boolean => {
  const svc = services[name];
  const b = buildOf(svc);
  if (b) return join(ROOT, b.context, b.dockerfile) === join(ROOT, 'Dockerfile');
  return builtTags.has(svc.image);
};
const isNats = (name: string): boolean => /^(docker\.io\/)?(library\/)?nats:/.test(services[name].image ?? '');
const lookoutServices = serviceNames.filter(isLookout);
const natsServices = serviceNames.filter(isNats);

const dockerCmd = execForm(lastFinal('CMD')?.args ?? '[]') ?? [];
const dockerEntrypoint = execForm(lastFinal('ENTRYPOINT')?.args ?? '[]') ?? [];

/** The lookout arguments a Lookout-image service runs (compose `command`, else the image's CMD). */
function lookoutArgs(name: string): string[] {
  const c = services[name].command;
  if (c === undefined) return dockerCmd;
  if (!Array.isArray(c)) throw new Error(`${name}: write command as a list, not a shell string`);
  return c.map(String);
}
const nodeServices = lookoutServices.filter((n) => lookoutArgs(n)[0] === 'node');
const demoServices = lookoutServices.filter((n) => lookoutArgs(n)[0] === 'demo-target');
const seedServices = lookoutServices.filter((n) => lookoutArgs(n)[0] === 'spec' && lookoutArgs(n)[1] === 'put');

function envOf(name: string): Record<string, string> {
  const e = services[name].environment ?? {};
  const entries: [string, unknown][] = Array.isArray(e) ? e.map((kv: string) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]) : Object.entries(e);
  return Object.fromEntries(
    entries.map(([k, v]) => {
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${name}: environment ${k} must be a string or number, got ${JSON.stringify(v)}`);
      return [k, String(v)];
    }),
  );
}

function dependsOn(name: string): Record<string, string> {
  const d = services[name].depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((x: string) => [x, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([k, v]: [string, Json]) => [k, v?.condition ?? 'service_started']));
}

interface PortMapping {
  hostIp: string;
  host: number;
  container: number;
  proto: string;
}
/** Published ports as compose runs them with no host-port variable set (their defaults). */
function portsOf(name: string): PortMapping[] {
  return (services[name].ports ?? []).map((p: Json) => {
    if (typeof p === 'object') return { hostIp: p.host_ip ?? '0.0.0.0', host: Number(p.published), container: Number(p.target), proto: p.protocol ?? 'tcp' };
    const [spec, proto = 'tcp'] = String(p)
      .replace(/\$\{[A-Z][A-Z0-9_]*:-(\d+)\}/g, '$1')
      .split('/');
    const parts = spec!.split(':');
    if (parts.length === 3) return { hostIp: parts[0]!, host: Number(parts[1]), container: Number(parts[2]), proto };
    if (parts.length === 2) return { hostIp: '0.0.0.0', host: Number(parts[0]), container: Number(parts[1]), proto };
    throw new Error(`${name}: port ${p} publishes no fixed host port`);
  });
}

/** Long flags of a nats-server command line: --name value (also -js etc. as given). */
function natsFlags(name: string): Map<string, string | true> {
  const cmd: string[] = services[name].command.map(String);
  const out = new Map<string, string | true>();
  const args = cmd[0] === 'nats-server' ? cmd.slice(1) : cmd;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) throw new Error(`${name}: unexpected argument ${a}`);
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      out.set(a, next);
      i++;
    } else out.set(a, true);
  }
  return out;
}
const natsFlag = (name: string, ...aliases: string[]): string | true | undefined => {
  const f = natsFlags(name);
  for (const a of aliases) if (f.has(a)) return f.get(a);
  return undefined;
};
const natsClientPort = (name: string) => Number(natsFlag(name, '-p', '--port') ?? 4222);
const natsMonitorPort = (name: string) => Number(natsFlag(name, '-m', '--http_port') ?? NaN);
const natsClusterUrl = (name: string) => new URL(String(natsFlag(name, '--cluster')));
const natsRoutes = (name: string): URL[] =>
  String(natsFlag(name, '--routes') ?? '')
    .split(',')
    .filter(Boolean)
    .map((r) => new URL(r.trim()));

/** The URL a healthcheck fetches: [host, port, path]. */
function healthcheckUrl(test: unknown): URL {
  const text = Array.isArray(test) ? test.join(' ') : String(test);
  const m = /https?:\/\/[^'"\s`)]+/.exec(text);
  if (!m) throw new Error(`no URL in healthcheck ${text}`);
  return new URL(m[0]);
}

/** Run `node dist/bin/lookout.js ...args`. */
function cli(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  return spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
}

/** Run a command without blocking the event loop (an in-process server must answer it); resolves with the exit code. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: 'ignore' });
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

/** The subcommands `main()` in bin/lookout.ts dispatches. */
const dispatched = new Set(
  [...read('bin/lookout.ts').slice(read('bin/lookout.ts').indexOf('export async function main')).matchAll(/case '([a-z][a-z-]*)':/g)].map((m) => m[1]!),
);

/** Env vars that are not node settings but are documented for the demo and the seeding step. */
const EXTRA_VARS: Record<string, () => boolean> = {
  // the placeholder `lookout spec put` fills in examples/specs
  DEMO_URL: () => readdirSync(join(ROOT, 'examples', 'specs')).some((f) => read(`examples/specs/${f}`).includes('${DEMO_URL}')),
  // demo-target's default port
  DEMO_PORT: () => read('dev/demo-target.ts').includes('DEMO_PORT'),
};
const SETTING_ENV = new Set(Object.values(SETTINGS).map((s) => s.env));

// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml: structure', () => {
  test('parses as YAML (anchors and << merges resolve) with only known keys', () => {
    expect(composeDoc.errors.map(String)).toEqual([]);
    expect(composeDoc.warnings.map(String)).toEqual([]);
    for (const k of Object.keys(compose)) expect(['services', 'volumes', 'networks', 'configs', 'secrets', 'name'].includes(k) || k.startsWith('x-')).toBe(true);
    const serviceKeys = ['image', 'build', 'init', 'command', 'environment', 'ports', 'volumes', 'depends_on', 'healthcheck', 'restart', 'stop_grace_period', 'entrypoint'];
    for (const [name, svc] of Object.entries(services)) {
      for (const k of Object.keys(svc)) expect([name, k, serviceKeys.includes(k)]).toEqual([name, k, true]);
      expect([name, ['no', 'always', 'on-failure', 'unless-stopped'].includes(svc.restart ?? 'no')]).toEqual([name, true]);
    }
  });

  test('the topology: 3 NATS servers, 3 Lookout nodes, a demo target, a seed', () => {
    expect(natsServices).toHaveLength(3);
    expect(nodeServices).toHaveLength(3);
    expect(demoServices).toHaveLength(1);
    expect(seedServices).toHaveLength(1);
    expect(serviceNames.sort()).toEqual([...natsServices, ...nodeServices, ...demoServices, ...seedServices].sort());
  });

  test('the only compose interpolation is each published host port, ${NAME:-default}, one variable per port, documented in README', () => {
    const strings: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => (strings.push(k), walk(x)));
    };
    walk(compose);
    const interpolated = strings.filter((s) => /\$(?!\$)/.test(s.replace(/\$\$/g, '')));
    const published = serviceNames.flatMap((n) => (services[n].ports ?? []).map(String));
    // every other $ is escaped ($$), so the file means what it says
    expect(interpolated.filter((s) => !published.includes(s))).toEqual([]);
    // and every published port can be moved (a nats-server already on 4222 must not block `up`)
    const vars = published.map((p) => [p, hostPortEntry(p)?.name] as const);
    expect(vars.filter(([, v]) => v === undefined)).toEqual([]);
    expect(new Set(vars.map(([, v]) => v)).size).toBe(published.length);
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('### With Docker Compose'), readme.indexOf('### ', readme.indexOf('### With Docker Compose') + 4));
    for (const [, v] of vars) expect([v, section.includes(v!)]).toEqual([v, true]);
  });

  test('every depends_on target is a service, with a valid condition; service_healthy targets have a healthcheck', () => {
    for (const name of serviceNames) {
      for (const [dep, cond] of Object.entries(dependsOn(name))) {
        expect([name, dep, serviceNames.includes(dep)]).toEqual([name, dep, true]);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(cond);
        if (cond === 'service_healthy') {
          const hc = services[dep].healthcheck;
          const inherited = isLookout(dep) && finalOps('HEALTHCHECK').length > 0;
          expect([dep, hc?.disable !== true && (hc?.test !== undefined || inherited)]).toEqual([dep, true]);
        }
      }
    }
  });

  test('mapped host ports do not collide, and each container port is one the service listens on', () => {
    const all = serviceNames.flatMap((name) => portsOf(name).map((p) => ({ name, ...p })));
    for (const p of all) expect([p.name, Number.isInteger(p.host) && p.host > 0 && p.host < 65536]).toEqual([p.name, true]);
    // the same port and protocol collide on the same address, and 0.0.0.0 collides with every address
    const collisions = all.flatMap((a, i) =>
      all.slice(i + 1).filter((b) => a.host === b.host && a.proto === b.proto && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')).map((b) => `${a.name} and ${b.name} on ${a.host}`),
    );
    expect(collisions).toEqual([]);
    for (const n of nodeServices) expect(portsOf(n).map((p) => p.container)).toEqual([loadConfig(envOf(n)).httpPort]);
    for (const n of demoServices) {
      const args = parseDemoArgs(lookoutArgs(n).slice(1), envOf(n));
      expect(args.help).toBe(false);
      expect(portsOf(n).map((p) => p.container)).toEqual([(args as { port: number }).port]);
    }
    for (const n of natsServices) for (const p of portsOf(n)) expect([natsClientPort(n), natsMonitorPort(n)]).toContain(p.container);
    for (const n of seedServices) expect(portsOf(n)).toEqual([]);
  });
});

describe('docker-compose.yml: images', () => {
  test('images built here come from the repo Dockerfile; every other image is NATS >= 2.9', () => {
    for (const name of serviceNames) {
      const b = buildOf(services[name]);
      if (b) {
        expect(existsSync(join(ROOT, b.context, b.dockerfile))).toBe(true);
        expect(join(ROOT, b.context, b.dockerfile)).toBe(join(ROOT, 'Dockerfile'));
      } else if (!isLookout(name)) {
        const m = /^(?:docker\.io\/)?(?:library\/)?nats:(\d+)\.(\d+)/.exec(services[name].image ?? '');
        expect([name, m !== null && (Number(m[1]) > 2 || Number(m[2]) >= 9)]).toEqual([name, true]);
      }
    }
    expect(lookoutServices.length).toBeGreaterThan(0);
    // services without `build` reuse a tag a build produces (compose would otherwise try to pull it)
    for (const name of lookoutServices) if (!buildOf(services[name])) expect(builtTags.has(services[name].image)).toBe(true);
    // Lookout services take the image's ENTRYPOINT (the CLI)
    for (const name of lookoutServices) expect(services[name].entrypoint).toBeUndefined();
  });
});

describe('docker-compose.yml: Lookout commands', () => {
  test('every command is a subcommand the CLI dispatches', () => {
    expect(dispatched.has('node')).toBe(true);
    for (const name of lookoutServices) expect([name, dispatched.has(lookoutArgs(name)[0]!)]).toEqual([name, true]);
  });

  test.each(lookoutServices.map((n) => [n]))('%s: `lookout <command> --help` exits 0 in the built CLI', (name) => {
    const args = lookoutArgs(name);
    // the subcommand words: up to the first flag or path
    const firstOperand = args.findIndex((a) => a.startsWith('-') || a.includes('/'));
    const words = firstOperand < 0 ? args : args.slice(0, Math.max(1, firstOperand));
    const r = cli([...words, '--help'], envOf(name));
    expect({ args: [...words, '--help'], status: r.status, stderr: r.stderr }).toEqual({ args: [...words, '--help'], status: 0, stderr: '' });
    expect(r.stdout).toMatch(/usage/i);
  });

  test('the demo target arguments parse', () => {
    for (const n of demoServices) expect(parseDemoArgs(lookoutArgs(n).slice(1), envOf(n))).toMatchObject({ help: false, port: 8080 });
  });
});

describe('docker-compose.yml: environment', () => {
  test('every variable on a Lookout service is a setting of runtime/config.ts or a documented demo variable', () => {
    for (const name of lookoutServices) {
      for (const key of Object.keys(envOf(name))) {
        const known = SETTING_ENV.has(key) || (EXTRA_VARS[key]?.() ?? false);
        expect([name, key, known]).toEqual([name, key, true]);
      }
    }
  });

  test('every Lookout environment parses with loadConfig, and the node flags of the command too', () => {
    for (const name of lookoutServices) {
      const args = lookoutArgs(name);
      const flags = args[0] === 'node' ? args.slice(1) : [];
      expect(() => loadConfig(envOf(name), flags)).not.toThrow();
    }
  });

  test('nodes: distinct ids, R3 buckets on the 3 servers, the nats-cluster timing profile', () => {
    const cfgs = nodeServices.map((n) => ({ name: n, cfg: loadConfig(envOf(n), lookoutArgs(n).slice(1)), env: envOf(n) }));
    // set explicitly: the default <host>-<pid> would be "<container id>-1" and change on every recreate
    for (const { env } of cfgs) expect(env.LOOKOUT_NODE_ID).toBeDefined();
    expect(new Set(cfgs.map((c) => c.cfg.nodeId)).size).toBe(nodeServices.length);
    for (const { cfg } of cfgs) {
      expect(cfg.kvReplicas).toBe(3);
      expect(cfg.kvReplicas).toBeLessThanOrEqual(natsServices.length);
      expect(cfg.timing).toBe('nats-cluster');
      expect(cfg.leaseMs).toBe(TIMING_PROFILES['nats-cluster'].leaseMs);
    }
    expect(new Set(cfgs.map((c) => c.cfg.prefix)).size).toBe(1);
    expect(new Set(cfgs.map((c) => c.cfg.shards)).size).toBe(1);
  });

  test('NATS_URL of every Lookout service lists every NATS service at its client port', () => {
    for (const name of [...nodeServices, ...seedServices]) {
      const urls = loadConfig(envOf(name)).natsUrl.split(',').map((u) => new URL(u));
      expect(envOf(name).NATS_URL).toBeDefined();
      const targets = urls.map((u) => `${u.hostname}:${u.port || 4222}`).sort();
      expect([name, targets]).toEqual([name, natsServices.map((n) => `${n}:${natsClientPort(n)}`).sort()]);
      for (const u of urls) expect(u.protocol).toBe('nats:');
    }
  });

  test('nodes get time to leave: stop_grace_period covers the leave timeout and the probe grace', () => {
    const seconds = (d: string) => {
      const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
      if (!m || d === '') throw new Error(`cannot read duration ${d}`);
      return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
    };
    for (const n of nodeServices) {
      const cfg = loadConfig(envOf(n));
      expect(seconds(String(services[n].stop_grace_period ?? '10s')) * 1000).toBeGreaterThan(cfg.leaveTimeoutMs + cfg.shutdownGraceMs);
    }
  });
});

describe('docker-compose.yml: NATS cluster', () => {
  test('each server: JetStream, its own name, one cluster name, a volume for its store', () => {
    const clusterNames = new Set<string>();
    for (const n of natsServices) {
      expect(services[n].command[0]).toBe('nats-server');
      expect(natsFlag(n, '-js', '--jetstream')).toBe(true);
      expect(natsFlag(n, '-n', '--name', '--server_name')).toBe(n);
      clusterNames.add(String(natsFlag(n, '--cluster_name')));
      const store = String(natsFlag(n, '-sd', '--store_dir'));
      expect(store.startsWith('/')).toBe(true);
      const mounts: string[] = (services[n].volumes ?? []).map((v: Json) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
      const vol = mounts.map((m) => m.split(':')).find(([, target]) => target === store);
      expect([n, store, vol !== undefined]).toEqual([n, store, true]);
      // a named volume, declared at the top level and used by this server only
      expect(Object.keys(compose.volumes ?? {})).toContain(vol![0]);
      for (const other of natsServices.filter((o) => o !== n)) expect(JSON.stringify(services[other].volumes)).not.toContain(`"${vol![0]}:`);
    }
    expect(clusterNames.size).toBe(1);
    expect([...clusterNames][0]).not.toBe('true');
  });

  test('routes reference the other NATS services at their cluster ports', () => {
    for (const n of natsServices) {
      const routes = natsRoutes(n).map((u) => `${u.hostname}:${u.port}`).sort();
      const others = natsServices.filter((o) => o !== n).map((o) => `${o}:${natsClusterUrl(o).port}`).sort();
      expect([n, routes]).toEqual([n, others]);
      for (const r of natsRoutes(n)) expect(['nats:', 'nats-route:']).toContain(r.protocol);
    }
  });

  test('every flag is one nats-server knows', () => {
    const help = spawnSync(natsServerBinary(), ['--help'], { encoding: 'utf8' });
    const text = help.stdout + help.stderr;
    const known = new Set([...text.matchAll(/(?:^|[\s,])(--?[a-z_]+)\b/gm)].map((m) => m[1]!));
    for (const n of natsServices) for (const flag of natsFlags(n).keys()) expect([n, flag, known.has(flag)]).toEqual([n, flag, true]);
  });

  test('the healthcheck asks /healthz on the monitoring port', () => {
    for (const n of natsServices) {
      const u = healthcheckUrl(services[n].healthcheck.test);
      expect([u.hostname, Number(u.port), u.pathname]).toEqual(['127.0.0.1', natsMonitorPort(n), '/healthz']);
    }
  });

  test('the three command lines form one JetStream cluster (run here, hosts and ports remapped)', async () => {
    await withComposeNats(async (run) => {
      await expectOneCluster(run);
    });
  });

  test('the meta leader SIGKILLed and started again with its store at once: the cluster forms again', async () => {
    // The case run.sh's NATS-server kill can hit: the restarted server may win the meta group back
    // before the others elect; nats-server 2.9.10 then leaves the followers counting a group of 2.
    await withComposeNats(async (run) => {
      const before = await expectOneCluster(run);
      await run.restart(before.leader);
      await expectOneCluster(run);
    });
  });
});

interface ComposeNats {
  ports: Map<string, { client: number; cluster: number; http: number }>;
  /** The servers that exited unasked, with the tail of their stderr. */
  exited(): { service: string; code: number | string; stderr: string }[];
  /** SIGKILL one server and start it again at once, on its ports and store. */
  restart(service: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `body` on the compose file's NATS servers run here. Ports are picked free up front, so another
 * test's server may take one before ours binds it: a server that exits says why (its stderr), and
 * a port taken that way is retried with new ports.
 */
async function withComposeNats(body: (run: ComposeNats) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const run = await startComposeNats();
    try {
      await body(run);
      return;
    } catch (err) {
      if (attempt >= 3 || !run.exited().some((e) => /address already in use/i.test(e.stderr))) throw err;
    } finally {
      await run.stop();
    }
  }
}

const killed = (proc: ChildProcess): Promise<unknown> | null => (proc.exitCode !== null || proc.signalCode !== null ? null : new Promise((r) => proc.once('exit', r)));

/** The compose file's NATS command lines, run here with their hosts and ports remapped to free local ones. */
async function startComposeNats(): Promise<ComposeNats> {
  const bin = natsServerBinary();
  const procs = new Map<string, { proc: ChildProcess; stderr: string[]; code: number | string | null }>();
  const dirs: string[] = [];
  const argsOf = new Map<string, string[]>();
  const ports = new Map<string, { client: number; cluster: number; http: number }>();
  for (const n of natsServices) ports.set(n, { client: await freePort(), cluster: await freePort(), http: await freePort() });
  for (const n of natsServices) {
    const p = ports.get(n)!;
    const dir = mkdtempSync(join(tmpdir(), `lookout-compose-${n}-`));
    dirs.push(dir);
    const args: string[] = services[n].command.slice(1).map(String);
    const set = (flags: string[], value: string) => {
      const i = args.findIndex((a) => flags.includes(a));
      expect([n, flags[0], i >= 0]).toEqual([n, flags[0], true]);
      args[i + 1] = value;
    };
    set(['-sd', '--store_dir'], dir);
    set(['-m', '--http_port'], String(p.http));
    const listen = natsClusterUrl(n);
    set(['--cluster'], `${listen.protocol}//127.0.0.1:${p.cluster}`);
    set(
      ['--routes'],
      natsRoutes(n)
        .map((r) => `${r.protocol}//127.0.0.1:${ports.get(r.hostname)!.cluster}`)
        .join(','),
    );
    argsOf.set(n, [...args, '-a', '127.0.0.1', '-p', String(p.client)]);
  }
  const start = (n: string) => {
    const proc = spawn(bin, argsOf.get(n)!, { stdio: ['ignore', 'ignore', 'pipe'] });
    const entry = { proc, stderr: [] as string[], code: null as number | string | null };
    proc.stderr!.on('data', (d: Buffer) => {
      entry.stderr.push(d.toString());
      if (entry.stderr.length > 50) entry.stderr.shift();
    });
    proc.once('exit', (code, sig) => (entry.code = code ?? sig ?? 'exit'));
    procs.set(n, entry);
  };
  for (const n of natsServices) start(n);
  return {
    ports,
    exited: () => [...procs].filter(([, e]) => e.code !== null).map(([service, e]) => ({ service, code: e.code!, stderr: e.stderr.join('').slice(-600) })),
    async restart(service) {
      const { proc } = procs.get(service)!;
      const gone = killed(proc);
      proc.kill('SIGKILL');
      await gone;
      start(service);
    },
    async stop() {
      for (const { proc } of procs.values()) proc.kill('SIGKILL');
      await Promise.all([...procs.values()].map(({ proc }) => killed(proc)));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Each server healthy, routed to the others, in one JetStream meta group as run.sh decides it (natsClusterFormed). Returns the meta leader. */
async function expectOneCluster(run: ComposeNats): Promise<{ leader: string }> {
  const clusterName = String(natsFlag(natsServices[0]!, '--cluster_name'));
  const seen = await waitFor(
    `the ${natsServices.length} servers in one JetStream cluster`,
    async () => {
      const gone = run.exited();
      if (gone.length) throw new GiveUp(`nats-server exited: ${JSON.stringify(gone)}`);
      const views = await Promise.all(natsServices.map((n) => readNatsView(n, run.ports.get(n)!.http)));
      const v = natsClusterFormed(views, { services: natsServices, clusterName });
      if (!v.ok) throw new Error(v.why);
      return views;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  return { leader: seen[0]!.jsz.meta_cluster!.leader! };
}

describe('docker-compose.yml: healthchecks', () => {
  /** Run a compose healthcheck test (["CMD", ...]) with its URL's port pointed at `port`; resolves with the exit code. */
  function runHealthcheck(test: string[], port: number): Promise<number | null> {
    expect(test[0]).toBe('CMD');
    const argv = test.slice(1).map((a) => a.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
    return run(argv[0] === 'node' ? process.execPath : argv[0]!, argv.slice(1));
  }

  test('nodes: /healthz on LOOKOUT_HTTP_PORT; the script passes against the real endpoint and fails without one', async () => {
    const endpoints = await startHttpEndpoints('127.0.0.1', 0, new Registry(), { natsConnected: () => false, assigned: () => false });
    try {
      for (const n of nodeServices) {
        const hc = services[n].healthcheck;
        const u = healthcheckUrl(hc.test);
        expect([u.hostname, u.pathname, Number(u.port)]).toEqual(['127.0.0.1', '/healthz', loadConfig(envOf(n)).httpPort]);
        expect(await runHealthcheck(hc.test, endpoints.port)).toBe(0);
        // /healthz means "alive", not "ready": it passes while NATS is still away (readiness is /readyz)
      }
    } finally {
      await endpoints.close();
    }
    const closed = await freePort();
    for (const n of nodeServices) expect(await runHealthcheck(services[n].healthcheck.test, closed)).toBe(1);
  });

  test('demo: asks a healthy demo endpoint on its --port', async () => {
    for (const n of demoServices) {
      const u = healthcheckUrl(services[n].healthcheck.test);
      expect(Number(u.port)).toBe((parseDemoArgs(lookoutArgs(n).slice(1)) as { port: number }).port);
      expect(u.pathname).toBe('/healthy');
    }
  });

  test('seed: one shot, no healthcheck inherited from the image, not restarted', () => {
    for (const n of seedServices) {
      expect(services[n].restart).toBe('no');
      expect(services[n].healthcheck).toEqual({ disable: true });
    }
  });
});

describe('docker-compose.yml: seeding', () => {
  test('the seed waits for healthy nodes and the demo target', () => {
    for (const n of seedServices) {
      const deps = dependsOn(n);
      for (const node of nodeServices) expect([node, deps[node]]).toEqual([node, 'service_healthy']);
      for (const d of demoServices) expect(deps[d]).toBeDefined();
    }
  });

  test('the seed path is examples/specs of the repo, copied into the image and not dockerignored', () => {
    for (const n of seedServices) {
      const args = lookoutArgs(n);
      expect(args.slice(0, 2)).toEqual(['spec', 'put']);
      // The path is the last argument; the options before it (--wait) were checked by --help above.
      const imagePath = posix.resolve(workdirOf(finalStage), args[args.length - 1]!);
      const src = contextSourceOf(finalStage, imagePath);
      expect([imagePath, src?.repoPath]).toEqual([imagePath, 'examples/specs']);
      expect(statSync(join(ROOT, src!.repoPath)).isDirectory()).toBe(true);
      expect(readdirSync(join(ROOT, src!.repoPath)).filter((f) => f.endsWith('.json')).length).toBeGreaterThan(0);
      for (const s of src!.copy.sources) expect([s, dockerIgnored(s, dockerignore)]).toEqual([s, false]);
    }
  });

  test('DEMO_URL points at the demo service and port, and every example validates with it', () => {
    for (const n of seedServices) {
      const url = new URL(envOf(n).DEMO_URL!);
      expect(demoServices).toContain(url.hostname);
      expect(Number(url.port)).toBe((parseDemoArgs(lookoutArgs(url.hostname).slice(1)) as { port: number }).port);
      const dir = join(ROOT, 'examples', 'specs');
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
        const text = read(`examples/specs/${f}`).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
          const v = envOf(n)[name];
          if (v === undefined) throw new Error(`${f} uses \${${name}}, which the seed service does not set`);
          return JSON.stringify(v).slice(1, -1);
        });
        const r = validateSpec(JSON.parse(text), basename(f, '.json'));
        expect([f, r.ok ? 'ok' : r.error]).toEqual([f, 'ok']);
      }
    }
  });
});

describe('Dockerfile', () => {
  test('multi-stage: a build stage and a runtime stage on Node >= 20 (package.json engines)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const engines = /(\d+)/.exec(JSON.parse(read('package.json')).engines.node)![1];
    for (const s of stages) {
      const m = /^node:(\d+)/.exec(s.image);
      expect([s.image, m !== null && Number(m[1]) >= Number(engines)]).toEqual([s.image, true]);
    }
    expect(stages[0]!.name).toBeDefined();
  });

  test('runs as a non-root user', () => {
    const user = lastFinal('USER')?.args.split(':')[0];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  test('npm ci: the build stage runs lifecycle scripts only after the sources are in; the runtime stage has no dev deps and no scripts', () => {
    const tsconfig = JSON.parse(read('tsconfig.json'));
    const includes: string[] = tsconfig.include;
    for (const stage of stages) {
      stage.instrs.forEach((ins, index) => {
        if (ins.op !== 'RUN' || !/\bnpm ci\b/.test(ins.args)) return;
        if (ins.args.includes('--ignore-scripts')) return;
        // `prepare` runs tsc: tsconfig.json and every source folder must be copied before
        const copied = copies(stage).filter((c) => c.index < index && !c.from).flatMap((c) => c.sources);
        for (const need of ['tsconfig.json', ...includes]) expect([`line ${ins.line}`, need, copied.includes(need)]).toEqual([`line ${ins.line}`, need, true]);
      });
    }
    const finalCi = finalOps('RUN').filter((r) => /\bnpm ci\b/.test(r.args));
    expect(finalCi).toHaveLength(1);
    expect(finalCi[0]!.args).toMatch(/--omit=dev/);
    expect(finalCi[0]!.args).toMatch(/--ignore-scripts/);
  });

  test('the build stage copies every folder tsconfig.json compiles and builds with npm run build', () => {
    const build = stages.find((s) => s.name && finalStage.instrs.some((i) => i.op === 'COPY' && i.args.includes(`--from=${s.name}`)))!;
    expect(build).toBeDefined();
    const copied = copies(build).filter((c) => !c.from).flatMap((c) => c.sources);
    for (const need of ['package.json', 'package-lock.json', 'tsconfig.json', ...JSON.parse(read('tsconfig.json')).include]) {
      expect([need, copied.includes(need)]).toEqual([need, true]);
      expect([need, dockerIgnored(need, dockerignore)]).toEqual([need, false]);
    }
    expect(build.instrs.some((i) => i.op === 'RUN' && /npm run build|tsc\b/.test(i.args))).toBe(true);
  });

  test('ENTRYPOINT is the CLI, which the runtime stage gets from the build output; CMD is `node`', () => {
    expect(dockerEntrypoint).toEqual(['node', JSON.parse(read('package.json')).bin.lookout]);
    expect(dockerCmd).toEqual(['node']);
    const outDir = JSON.parse(read('tsconfig.json')).compilerOptions.outDir as string;
    const script = posix.resolve(workdirOf(finalStage), dockerEntrypoint[1]!);
    const fromBuild = copies(finalStage).find((c) => c.from && script.startsWith(c.dest + '/'));
    expect(fromBuild).toBeDefined();
    const buildStage = stages.find((s) => s.name === fromBuild!.from)!;
    expect(fromBuild!.sources).toEqual([posix.resolve(workdirOf(buildStage), outDir)]);
    // the same relative path exists in a local build (tsc with the same tsconfig)
    expect(existsSync(join(ROOT, outDir, script.slice(fromBuild!.dest.length + 1)))).toBe(true);
    // version.ts reads package.json next to dist/
    expect(contextSourceOf(finalStage, posix.join(workdirOf(finalStage), 'package.json'))?.repoPath).toBe('package.json');
  });

  test('HEALTHCHECK: a node\'s /healthz on LOOKOUT_HTTP_PORT (default 9464) or the demo target\'s /healthy on DEMO_PORT, with node, and works', async () => {
    const hc = lastFinal('HEALTHCHECK');
    expect(hc).toBeDefined();
    const cmd = /\bCMD\s+(.*)$/.exec(hc!.args)![1]!;
    expect(cmd).not.toMatch(/curl|wget/);
    expect(cmd).toContain('/healthz');
    expect(cmd).toContain(`\${LOOKOUT_HTTP_PORT:-${SETTINGS.httpPort.default}}`);
    expect(finalOps('EXPOSE').map((e) => e.args)).toContain(String(SETTINGS.httpPort.default));
    // `node` as the image has it: first on PATH
    const shellPath = `${join(process.execPath, '..')}:${process.env.PATH ?? ''}`;
    const endpoints = await startHttpEndpoints('127.0.0.1', 0, new Registry(), { natsConnected: () => true, assigned: () => true });
    try {
      // shell form, as Docker runs it: /bin/sh -c
      expect(await run('/bin/sh', ['-c', cmd], { PATH: shellPath, LOOKOUT_HTTP_PORT: String(endpoints.port) })).toBe(0);
    } finally {
      await endpoints.close();
    }
    // a demo target container (`docker run lookout demo-target`) is healthy too, not only a node
    expect(cmd).toContain(`\${DEMO_PORT:-${DEMO_DEFAULTS.port}}/healthy`);
    const demo = await startDemoTarget({ host: '127.0.0.1', port: 0 });
    try {
      expect(await run('/bin/sh', ['-c', cmd], { PATH: shellPath, LOOKOUT_HTTP_PORT: String(await freePort()), DEMO_PORT: String(demo.port) })).toBe(0);
    } finally {
      await demo.close();
    }
    expect(await run('/bin/sh', ['-c', cmd], { PATH: shellPath, LOOKOUT_HTTP_PORT: String(await freePort()), DEMO_PORT: String(await freePort()) })).toBe(1);
  });

  test('.dockerignore keeps local builds, dependencies and git out of the context', () => {
    for (const p of ['node_modules', 'dist', '.git', 'coverage']) expect([p, dockerIgnored(p, dockerignore)]).toEqual([p, true]);
    for (const p of ['package.json', 'package-lock.json', 'examples/specs/demo-healthy.json', 'bin/lookout.ts']) expect([p, dockerIgnored(p, dockerignore)]).toEqual([p, false]);
  });
});
