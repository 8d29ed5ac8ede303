// A network namespace for one Lookout node whose own network breaks while the rest of the cluster's
// does not (issue 13: a node that cannot reach the targets must not turn them `down`). Real kernel
// networking, nothing simulated:
//
//   host                                         namespace <name>
//   veth <name>h 10.<a>.<b>.1/30  ─────────────  veth <name>n 10.<a>.<b>.2/30
//        and 10.<a>.<b+1>.1/32 (targets)         route to the targets: none while broken →
//                                                connect fails at once (ENETUNREACH)
//
// The host's own nodes reach the targets' address (a local address); the node in the namespace
// reaches NATS through a proxy listening on the host side of the veth, and the targets only while
// `heal()` has added its route (via the host side: the host answers for its own address).
// Requires root (ip netns); `close()` removes the namespace and the veth pair.

import { execFileSync } from 'node:child_process';

export interface NetNs {
  name: string;
  /** The host side of the veth: what the node in the namespace connects to (NATS proxy). */
  hostAddress: string;
  /** A host address the namespace has no route to until heal(): where the targets listen. */
  targetAddress: string;
  /** Argv prefix that runs a command inside the namespace. */
  exec: string[];
  /** Give the namespace its route to the targets. */
  heal(): void;
  /** Take the route away again: connections to the targets fail with ENETUNREACH. */
  break(): void;
  close(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Whether this process may create network namespaces (root with iproute2), and why not. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (`ip`) is not installed';
  }
  return null;
}

/** Create the namespace; `tag` ≤ 8 characters of [a-z0-9] keeps link names within 15 characters. */
export function createNetNs(tag: string): NetNs {
  const why = netnsUnavailable();
  if (why) throw new Error(why);
  if (!/^[a-z0-9]{1,8}$/.test(tag)) throw new Error(`netns tag ${tag}: 1-8 of [a-z0-9]`);
  const name = `lk${tag}`;
  // A /30 and a /32 of 10.200.0.0/13 picked by the process id (tests in parallel get their own).
  const n = process.pid % 2048;
  const a = 200 + Math.floor(n / 256);
  const b = (n % 128) * 2;
  const hostAddress = `10.${a}.${b}.1`;
  const targetAddress = `10.${a}.${b + 1}.1`;
  const [h, ns] = [`${name}h`, `${name}n`];
  const close = () => {
    for (const args of [['netns', 'del', name], ['link', 'del', h]]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  };
  close(); // a previous run of the same pid that did not clean up
  try {
    ip('netns', 'add', name);
    ip('link', 'add', h, 'type', 'veth', 'peer', 'name', ns);
    ip('link', 'set', ns, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', h);
    ip('link', 'set', h, 'up');
    ip('-n', name, 'addr', 'add', `10.${a}.${b}.2/30`, 'dev', ns);
    ip('-n', name, 'link', 'set', ns, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('addr', 'add', `${targetAddress}/32`, 'dev', h);
  } catch (err) {
    close();
    throw err;
  }
  const route = (op: 'replace' | 'del') => ip('-n', name, 'route', op, `${targetAddress}/32`, 'via', hostAddress);
  return {
    name,
    hostAddress,
    targetAddress,
    exec: ['ip', 'netns', 'exec', name],
    heal: () => route('replace'),
    break: () => {
      try {
        route('del');
      } catch {
        // no route: broken already
      }
    },
    close,
  };
}
